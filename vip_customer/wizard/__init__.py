from . import vip_tier_change
from . import vip_customer_import
