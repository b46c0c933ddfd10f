from . import vip_service_ticket_demo
