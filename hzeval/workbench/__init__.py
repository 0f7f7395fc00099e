"""The staff's notebook surface (``from hzeval import workbench``): published runs and inputs for
JupyterLab (:mod:`hzeval.workbench.session`) and the staff notebooks' views (:mod:`hzeval.workbench.staff`)."""

from hzeval.workbench.session import (
    Inputs,
    gallery_jobs,
    gallery_links,
    lab_command,
    lab_environment,
    lab_kernel_env,
    lab_token,
    open_inputs,
    open_previous,
    open_run,
    published_folder,
    running_as_root,
)

__all__ = [
    "Inputs",
    "gallery_jobs",
    "gallery_links",
    "lab_command",
    "lab_environment",
    "lab_kernel_env",
    "lab_token",
    "open_inputs",
    "open_previous",
    "open_run",
    "published_folder",
    "running_as_root",
]
