"""The demo scenario of DOMAIN.md: each context's spec loads its part, tenants first."""

from __future__ import annotations

from runtime.platform import Platform


def load_demo(platform: Platform) -> list[str]:
    """Load every context's demo part; running it again changes nothing. Returns what was done."""
    from kim.contexts import CONTEXTS

    done: list[str] = []
    for spec in CONTEXTS:
        if spec.demo is not None:
            done += spec.demo(platform)
    return done
