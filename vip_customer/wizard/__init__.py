from . import vip_excel_import_mixin
from . import vip_tier_change
from . import vip_customer_import
from . import vip_customer_import_rows
from . import vip_customer_import_line
from . import base_partner_merge_automatic_wizard
from . import vip_moment_visit
