from . import vip_customer_demo
