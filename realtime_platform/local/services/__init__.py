"""The local services, one module per technology.

Each `Service` (base.py) becomes one supervisord program. A technology's module gives its program(s)
for the single topology and, where TOPOLOGY=scaled runs more or other processes, those too; its
`prepare_*` functions do the one-time work a service needs before its first start and render its
config files from the templates in local/conf (realtime_platform.conf_templates). Which services run
in which topology is listed in realtime_platform.local.stack.
"""
