// JupyterLab's widget manager on the test page, wired as JupyterLab wires it for a notebook: a
// placeholder renderer for widget views in the rendermime before any notebook opens, then, once
// the notebook's session has a kernel, one WidgetManager (the notebook's context, its panel's
// rendermime) that the widget-view renderer is bound to, with the base, controls and output
// modules registered. The manager's own restore (run when it is created and on each reconnect)
// opens the `jupyter.widget.control` comm and asks for every model's state; the page records what
// became of that comm, since the kernel picks its widget protocol by it.
import "@jupyter-widgets/base/css/index.css";
import "@jupyter-widgets/controls/css/widgets-base.css";
import * as base from "@jupyter-widgets/base";
import * as controls from "@jupyter-widgets/controls";
import { JUPYTER_CONTROLS_VERSION } from "@jupyter-widgets/controls/lib/version";
import { WIDGET_VIEW_MIMETYPE, WidgetManager } from "@jupyter-widgets/jupyterlab-manager/lib/manager";
import { OUTPUT_WIDGET_VERSION, OutputModel, OutputView } from "@jupyter-widgets/jupyterlab-manager/lib/output";
import { WidgetRenderer } from "@jupyter-widgets/jupyterlab-manager/lib/renderer";
import type { CodeCell } from "@jupyterlab/cells";
import type { NotebookPanel } from "@jupyterlab/notebook";
import type { IRenderMimeRegistry } from "@jupyterlab/rendermime";
import type { Kernel, KernelMessage } from "@jupyterlab/services";
import type { Panel } from "@lumino/widgets";

/** The control comm's target: the manager opens it to load every model in one round trip. */
const CONTROL_TARGET = "jupyter.widget.control";

/** What became of the manager's control comm: not opened yet, opened, answered with the kernel's states, or closed unanswered. */
export type ControlComm = "none" | "opened" | "answered" | "refused";

/** What the test reads of the page's widget manager. */
export interface WidgetsHandle {
  manager: WidgetManager;
  /** The latest control comm's fate (a reconnect opens a new one). */
  control: ControlComm;
  /** How many times the kernel answered a control comm (once per connect). */
  answers: number;
  /** How many models the kernel's latest `update_states` listed. */
  statesListed: number;
}

/** Registers the renderer that waits for a manager, as JupyterLab does before any notebook opens. */
export function addWidgetPlaceholder(rendermime: IRenderMimeRegistry): void {
  rendermime.addFactory({ safe: false, mimeTypes: [WIDGET_VIEW_MIMETYPE], createRenderer: (options) => new WidgetRenderer(options) }, -10);
}

/** Creates the notebook's widget manager once its session has a kernel, and binds widget views to it. */
export async function addWidgetManager(panel: NotebookPanel): Promise<WidgetsHandle> {
  const { context, content, sessionContext } = panel;
  await sessionContext.ready;
  const manager = new WidgetManager(context, content.rendermime, { saveState: false });
  const handle: WidgetsHandle = { manager, control: "none", answers: 0, statesListed: 0 };
  // In time for the restore the constructor started: it opens the control comm only after awaiting the session.
  watchControlComm(sessionContext.session?.kernel ?? null, handle);
  sessionContext.kernelChanged.connect((_, change) => watchControlComm(change.newValue, handle));
  register(manager);
  // Views rendered before the manager existed wait in placeholders; later ones get it at once.
  for (const renderer of renderers(panel)) renderer.manager = manager;
  content.rendermime.removeMimeType(WIDGET_VIEW_MIMETYPE);
  content.rendermime.addFactory({ safe: false, mimeTypes: [WIDGET_VIEW_MIMETYPE], createRenderer: (options) => new WidgetRenderer(options, manager) }, -10);
  return handle;
}

/** The modules a kernel's models name: base, controls and output, at the versions these packages implement. */
function register(manager: WidgetManager): void {
  const { WidgetModel, WidgetView, DOMWidgetModel, DOMWidgetView, LayoutModel, LayoutView, StyleModel, StyleView, ErrorWidgetView } = base;
  manager.register({
    name: "@jupyter-widgets/base",
    version: base.JUPYTER_WIDGETS_VERSION,
    exports: { WidgetModel, WidgetView, DOMWidgetModel, DOMWidgetView, LayoutModel, LayoutView, StyleModel, StyleView, ErrorWidgetView },
  });
  manager.register({ name: "@jupyter-widgets/controls", version: JUPYTER_CONTROLS_VERSION, exports: controls as unknown as base.ExportMap });
  manager.register({ name: "@jupyter-widgets/output", version: OUTPUT_WIDGET_VERSION, exports: { OutputModel, OutputView } });
}

/** Every widget-view renderer in the notebook's outputs. */
function* renderers(panel: NotebookPanel): Generator<WidgetRenderer> {
  for (const cell of panel.content.widgets) {
    if (cell.model.type !== "code") continue;
    for (const output of (cell as CodeCell).outputArea.widgets) {
      for (const child of Array.from((output as Panel).widgets ?? [])) {
        if (child instanceof WidgetRenderer) yield child;
      }
    }
  }
}

/** Follows the control comm on `kernel`'s messages: opened by the page, then answered or closed by the kernel. */
function watchControlComm(kernel: Kernel.IKernelConnection | null, handle: WidgetsHandle): void {
  let commId = "";
  kernel?.anyMessage.connect((_, { msg, direction }) => {
    const { msg_type } = msg.header;
    if (direction === "send" && msg_type === "comm_open" && (msg as KernelMessage.ICommOpenMsg).content.target_name === CONTROL_TARGET) {
      commId = (msg as KernelMessage.ICommOpenMsg).content.comm_id;
      handle.control = "opened";
    } else if (direction === "recv" && commId && (msg_type === "comm_msg" || msg_type === "comm_close")) {
      const content = (msg as KernelMessage.ICommMsgMsg | KernelMessage.ICommCloseMsg).content;
      if (content.comm_id !== commId) return;
      const data = content.data as { method?: string; states?: Record<string, unknown> };
      if (msg_type === "comm_msg" && data.method === "update_states") {
        handle.control = "answered";
        handle.answers++;
        handle.statesListed = Object.keys(data.states ?? {}).length;
      } else if (msg_type === "comm_close" && handle.control === "opened") {
        handle.control = "refused";
      }
    }
  });
}
