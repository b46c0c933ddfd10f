from . import vip_pareto_report
