from . import test_tier_engine
from . import test_partner_profile
from . import test_security
from . import test_multicompany
from . import test_performance
from . import test_followup
from . import test_care
from . import test_import
