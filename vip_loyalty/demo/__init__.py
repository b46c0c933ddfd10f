from . import vip_loyalty_demo
