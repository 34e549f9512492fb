"""Case management (Baustein 2). The context itself follows; its published contracts are here."""
