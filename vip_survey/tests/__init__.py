from . import test_nps
from . import test_recovery
from . import test_campaign
from . import test_satisfaction
from . import test_security
from . import test_churn_signal
from . import test_ui
