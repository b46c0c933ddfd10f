from . import vip_survey_demo
