from . import vip_service_ticket_reassign
from . import vip_service_ticket_complaint_step
from . import vip_moment_visit
