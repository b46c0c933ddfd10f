from . import vip_loyalty_statement_report
