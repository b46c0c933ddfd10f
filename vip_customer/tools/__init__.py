from . import vip_rules
