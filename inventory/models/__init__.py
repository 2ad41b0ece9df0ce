from .catalog import Product, Store
from .levels import InventoryLevel
from .mappings import ProductMapping, StoreMapping
from .retailer import ApiToken, MerchantUser, Retailer
from .transactions import Transaction

__all__ = [
    "ApiToken",
    "InventoryLevel",
    "MerchantUser",
    "Product",
    "ProductMapping",
    "Retailer",
    "Store",
    "StoreMapping",
    "Transaction",
]
