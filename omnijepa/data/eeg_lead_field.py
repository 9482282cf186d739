"""How the generated EEG task's sources reach the electrodes (``data.lead_field``).

- ``gaussian``: weight ``exp(-d^2 / 2 s^2)`` of the electrode-source distance d (s =
  ``data.spread`` head radii): smooth, positive, no volume conduction physics.
- ``mne_sphere``: MNE's forward model. A 4-shell spherical head fitted to the montage's
  electrodes (``mne.make_sphere_model``: brain, CSF, skull, scalp with their standard
  conductivities), one current dipole per source at 80% of the sphere's radius on the line
  from its centre to the electrode it sits under, oriented radially (a gyral crown), and the
  EEG gain of each dipole at each electrode (``mne.make_forward_dipole``), average-referenced.
  Offline: the sphere needs no MRI and no download. Dipoles far from an electrode project with
  the opposite sign, as real ones do; the gaussian field never does.

Both return (C, S) with the largest magnitude 1: the sensor noise is relative to the signal,
so only the shape of the field matters.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

from omnijepa.modalities.eeg import HEAD_SCALE, electrode_positions
from omnijepa.registry import Registry

# (electrode names, source names (electrodes the sources sit under), montage, spread) -> (C, S)
LeadField = Callable[[tuple[str, ...], tuple[str, ...], str, float], np.ndarray]
LEAD_FIELDS: Registry[LeadField] = Registry("EEG lead field (data.lead_field)")
DIPOLE_DEPTH = 0.8  # share of the head sphere's radius (its brain shell ends at 0.9)


def gaussian_lead(channels: tuple[str, ...], sources: tuple[str, ...], montage: str,
                  spread: float) -> np.ndarray:  # fmt: skip
    """Smooth positive weights by distance (sources a little inside the scalp)."""
    elec = electrode_positions(list(channels), montage)
    src = electrode_positions(list(sources)) * 0.8
    dist = np.linalg.norm(elec[:, None] - src[None], axis=-1)
    lead = np.exp(-(dist**2) / (2 * spread**2))
    return lead / np.abs(lead).max()


@lru_cache(maxsize=16)
def sphere_lead(channels: tuple[str, ...], sources: tuple[str, ...], montage: str,
                spread: float = 0.0) -> np.ndarray:  # fmt: skip
    """EEG gain of radial dipoles in a spherical head fitted to ``channels`` (module doc)."""
    import mne

    names = list(channels)
    pos = electrode_positions(names, montage) * HEAD_SCALE  # metres
    info = mne.create_info(names, 100.0, "eeg")
    dig = mne.channels.make_dig_montage(ch_pos=dict(zip(names, pos)), coord_frame="head")
    info.set_montage(dig)
    sphere = mne.make_sphere_model("auto", "auto", info, verbose="error")
    centre = np.asarray(sphere["r0"])
    towards = electrode_positions(list(sources)) * HEAD_SCALE - centre
    ori = towards / np.linalg.norm(towards, axis=1, keepdims=True)
    rr = centre + ori * DIPOLE_DEPTH * sphere.radius
    n = len(rr)
    dipoles = mne.Dipole(np.zeros(n), rr, np.full(n, 1e-8), ori, np.ones(n))
    fwd, _ = mne.make_forward_dipole(dipoles, sphere, info, verbose="error")
    gain = np.asarray(fwd["sol"]["data"], dtype=np.float64)
    gain = gain - gain.mean(0, keepdims=True)  # average reference
    return gain / np.abs(gain).max()


LEAD_FIELDS.add("gaussian", gaussian_lead)
LEAD_FIELDS.add("mne_sphere", sphere_lead)

__all__ = ["LEAD_FIELDS", "gaussian_lead", "sphere_lead"]
