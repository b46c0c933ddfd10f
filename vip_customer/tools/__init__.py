from . import vip_rules
from . import import_rows
