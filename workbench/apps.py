from django.apps import AppConfig


class WorkbenchConfig(AppConfig):
    """The bureaus' workbench (审核工作台) and dashboards (统计看板): the one app that reads every other.

    It sits at the top of the dependency graph: it imports records, transfers and cpe; none of them,
    nor kjzx, imports it. Its one plug-in: ``kjzx.workflow.TRANSITION_HOOKS`` runs
    :func:`workbench.tallies.decision_tally_update` in every transition, so the dashboards' on-time
    rate and p90 come from tallies kept as decisions happen.
    """

    name = "workbench"
    verbose_name = "审核工作台"

    def ready(self):
        from kjzx.workflow import TRANSITION_HOOKS
        from workbench.tallies import decision_tally_update

        if decision_tally_update not in TRANSITION_HOOKS:
            TRANSITION_HOOKS.append(decision_tally_update)
