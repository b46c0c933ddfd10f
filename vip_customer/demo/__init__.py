from . import vip_customer_demo
from . import vip_manager_scorecard_demo
from . import vip_moment_demo
