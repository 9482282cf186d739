"""Frozen-feature evaluation for point-cloud encoders (Point-JEPA's SVM protocol).

Features are ``[max ‖ mean]`` over the encoder's patch tokens; a linear SVM (Point-JEPA:
``SVC(kernel="linear", C=0.012)``, on standardised features here so one C fits every width)
measures linear separability, few-shot episodes (n-way k-shot, SVM on the k labelled
examples, queries from the test split) measure label efficiency, and an optional fine-tune
trains encoder + MLP head end to end.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from torch import nn
from torch.utils.data import DataLoader, Dataset

from omnijepa.eval.features import max_mean_pool


def svm_accuracy(
    x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, c: float
) -> float:
    """Test accuracy of a linear SVM on standardised features."""
    clf = make_pipeline(StandardScaler(), SVC(kernel="linear", C=c))
    clf.fit(np.nan_to_num(x_train), y_train)
    return float(clf.score(np.nan_to_num(x_test), y_test))


def few_shot_accuracy(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    way: int,
    shot: int,
    queries: int,
    episodes: int,
    c: float,
    seed: int = 0,
) -> tuple[float, float]:
    """Mean and std over episodes of n-way k-shot accuracy (SVM on the support set)."""
    rng = np.random.default_rng(seed)
    classes = np.unique(y_train[y_train >= 0])
    if len(classes) < way:
        raise ValueError(f"few-shot needs >= {way} classes, the data has {len(classes)}")
    accs = []
    for _ in range(episodes):
        picked = rng.choice(classes, size=way, replace=False)
        sx, sy, qx, qy = [], [], [], []
        for c_ in picked:
            tr = np.flatnonzero(y_train == c_)
            te = np.flatnonzero(y_test == c_)
            sx.append(x_train[rng.choice(tr, size=min(shot, len(tr)), replace=False)])
            qx.append(x_test[rng.choice(te, size=min(queries, len(te)), replace=False)])
            sy += [c_] * len(sx[-1])
            qy += [c_] * len(qx[-1])
        accs.append(svm_accuracy(np.concatenate(sx), np.array(sy), np.concatenate(qx),
                                 np.array(qy), c))  # fmt: skip
    return float(np.mean(accs)), float(np.std(accs))


def finetune_accuracy(
    encoder: nn.Module,
    train: Dataset,
    test: Dataset,
    num_classes: int,
    device: torch.device,
    epochs: int,
    lr: float = 5e-4,
    batch_size: int = 32,
    seed: int = 0,
) -> float:
    """Train a copy of ``encoder`` + an MLP head on [max ‖ mean] features; test accuracy.

    (Point-JEPA fine-tunes with an MLP head 256, dropout 0.5, label smoothing 0.2.)
    """
    torch.manual_seed(seed)
    enc = copy.deepcopy(encoder).to(device).train()
    enc.requires_grad_(True)
    dim = enc.dim
    head = nn.Sequential(
        nn.Linear(2 * dim, 256), nn.GELU(), nn.Dropout(0.5), nn.Linear(256, num_classes)
    ).to(device)
    params = list(enc.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.05)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.2)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for x, y in DataLoader(train, batch_size=batch_size, shuffle=True, generator=gen):
            z = enc(x.to(device))
            logits = head(max_mean_pool(z))
            loss = loss_fn(logits, torch.as_tensor(y).to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    enc.eval()
    head.eval()
    right = total = 0
    with torch.no_grad():
        for x, y in DataLoader(test, batch_size=256):
            z = enc(x.to(device))
            pred = head(max_mean_pool(z)).argmax(-1).cpu()
            right += int((pred == torch.as_tensor(y)).sum())
            total += len(pred)
    return right / max(total, 1)
