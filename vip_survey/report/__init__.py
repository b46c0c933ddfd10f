from . import vip_satisfaction_report
