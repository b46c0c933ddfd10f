from . import vip_loyalty_adjust
from . import vip_loyalty_import
from . import vip_loyalty_statement
from . import base_partner_merge_automatic_wizard
