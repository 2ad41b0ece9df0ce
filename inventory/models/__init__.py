from .catalog import Product, Store
from .levels import InventoryLevel
from .mappings import ProductMapping, StoreMapping
from .merges import CatalogMerge
from .retailer import ApiToken, MerchantUser, Retailer
from .transactions import Transaction

__all__ = [
    "ApiToken",
    "CatalogMerge",
    "InventoryLevel",
    "MerchantUser",
    "Product",
    "ProductMapping",
    "Retailer",
    "Store",
    "StoreMapping",
    "Transaction",
]
