from . import vip_survey_campaign
from . import vip_survey_campaign_dispatch
from . import survey_user_input
from . import res_partner
from . import vip_service_ticket
from . import vip_tier_engine
from . import vip_kpi_engine
