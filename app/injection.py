"""The order filter, where the chat service looks for it; it lives in core/injection.py so that the
loaders (which also drop headlines that give orders) need nothing from the app package."""
from core.injection import addresses_the_assistant, order_indexes, safe_title, without_orders

__all__ = ["addresses_the_assistant", "order_indexes", "safe_title", "without_orders"]
