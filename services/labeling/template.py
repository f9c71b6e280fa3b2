"""Our own worker task template (there is no HumanTaskUiArn for image classification).

Built from the documented image-classification template: the `crowd-image-classifier` element
(or `crowd-image-classifier-multi-select` for multi-label) with the user's description as header and
extra instructions as the short and full instructions. Label names reach the template through the
pre-annotation Lambda (`task.input.labels`), which reads the label category file.
"""

from __future__ import annotations

import html

from services.labeling.rules import MULTI

DEFAULT_FULL = [
    "Read the task carefully and inspect the image.",
    "Read the options to understand the labels.",
    "Choose the label that best suits the image.",
]


def worker_template(description: str, instructions: str, task_type: str) -> str:
    element = "crowd-image-classifier-multi-select" if task_type == MULTI else "crowd-image-classifier"
    header = html.escape(description, quote=True)
    extra = html.escape(instructions.strip())
    steps = "\n".join(f"        <li>{html.escape(s)}</li>" for s in DEFAULT_FULL)
    extra_full = f"\n      <p>{extra}</p>" if extra else ""
    short = f"<p>{extra}</p>" if extra else "<p>Choose the label that best describes the image.</p>"
    return f"""<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>
<crowd-form>
  <{element}
    name="{element}"
    src="{{{{ task.input.taskObject | grant_read_access }}}}"
    header="{header}"
    categories="{{{{ task.input.labels | to_json | escape }}}}"
  >
    <full-instructions header="Image classification instructions">
      <ol>
{steps}
      </ol>{extra_full}
    </full-instructions>
    <short-instructions>
      {short}
    </short-instructions>
  </{element}>
</crowd-form>
"""
