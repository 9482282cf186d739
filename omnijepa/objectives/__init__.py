"""Training objectives: latent prediction losses and anti-collapse regularisers."""
