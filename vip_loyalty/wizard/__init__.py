from . import vip_loyalty_adjust
from . import vip_loyalty_import
from . import vip_loyalty_statement
