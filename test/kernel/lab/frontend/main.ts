// The browser side of the JupyterLab test: JupyterLab 4's own notebook panel, output area,
// rendermime registry (its standard renderers and HTML sanitizer), session dialogs and toolbar
// buttons, put together on one page the way JupyterLab's notebook plugin puts them together, and
// JupyterLab's widget manager (./widgets.ts), talking to a real jupyter_server on the same origin.
// Bundled by ../bundle.ts; the page's query names the notebook (`path`) and the server's token (`token`).
import "@jupyterlab/theme-light-extension/style/variables.css";
import "@jupyterlab/theme-light-extension/style/theme.css";
import "@jupyterlab/notebook/style/index.js";
import "@jupyterlab/outputarea/style/index.js";
import "@jupyterlab/rendermime/style/index.js";
import { Sanitizer, SessionContextDialogs, Toolbar } from "@jupyterlab/apputils";
import { CodeMirrorEditorFactory, CodeMirrorMimeTypeService, EditorExtensionRegistry, EditorLanguageRegistry } from "@jupyterlab/codemirror";
import { DocumentManager, type IDocumentWidgetOpener } from "@jupyterlab/docmanager";
import { DocumentRegistry, type IDocumentWidget } from "@jupyterlab/docregistry";
import { createMarkdownParser } from "@jupyterlab/markedparser-extension";
import { NotebookActions, NotebookModelFactory, NotebookPanel, NotebookWidgetFactory, ToolbarItems } from "@jupyterlab/notebook";
import { RenderMimeRegistry, standardRendererFactories } from "@jupyterlab/rendermime";
import { ServerConnection, ServiceManager } from "@jupyterlab/services";
import { CommandRegistry } from "@lumino/commands";
import { Signal } from "@lumino/signaling";
import { BoxPanel, Widget } from "@lumino/widgets";
import { addWidgetManager, addWidgetPlaceholder, type WidgetsHandle } from "./widgets.ts";

const query = new URLSearchParams(location.search);
const path = query.get("path") ?? "";
const serverSettings = ServerConnection.makeSettings({
  baseUrl: `${location.origin}/`,
  wsUrl: `${location.origin.replace(/^http/, "ws")}/`,
  token: query.get("token") ?? "",
  appendToken: true,
});

/** What the test reaches in the page: the panel, its widget manager, and Run All as JupyterLab's menu runs it. */
export interface LabHandle {
  panel: NotebookPanel;
  widgets: WidgetsHandle;
  runAll(): Promise<boolean>;
}

async function open(): Promise<LabHandle> {
  const manager = new ServiceManager({ serverSettings });
  await manager.ready;
  const languages = new EditorLanguageRegistry();
  for (const language of EditorLanguageRegistry.getDefaultLanguages()) languages.addLanguage(language);
  const extensions = new EditorExtensionRegistry();
  for (const extension of EditorExtensionRegistry.getDefaultExtensions()) extensions.addExtension(extension);
  const editorFactory = new CodeMirrorEditorFactory({ extensions, languages });
  const rendermime = new RenderMimeRegistry({
    initialFactories: standardRendererFactories,
    sanitizer: new Sanitizer(),
    markdownParser: createMarkdownParser(languages),
  });
  addWidgetPlaceholder(rendermime);
  const sessionDialogs = new SessionContextDialogs();
  const registry = new DocumentRegistry();
  registry.addModelFactory(new NotebookModelFactory({}));
  const factory = new NotebookWidgetFactory({
    name: "Notebook",
    modelName: "notebook",
    fileTypes: ["notebook"],
    defaultFor: ["notebook"],
    preferKernel: true,
    canStartKernel: true,
    rendermime,
    contentFactory: new NotebookPanel.ContentFactory({ editorFactory: editorFactory.newInlineEditor }),
    mimeTypeService: new CodeMirrorMimeTypeService(languages),
    // The buttons JupyterLab's notebook toolbar shows for running and stopping.
    toolbarFactory: (panel: NotebookPanel) => [
      { name: "run", widget: ToolbarItems.createRunButton(panel, sessionDialogs) },
      { name: "interrupt", widget: Toolbar.createInterruptButton(panel.sessionContext) },
      { name: "restart", widget: Toolbar.createRestartButton(panel.sessionContext, sessionDialogs) },
      { name: "spacer", widget: Toolbar.createSpacerItem() },
      { name: "kernelName", widget: Toolbar.createKernelNameItem(panel.sessionContext, sessionDialogs) },
    ],
  });
  registry.addWidgetFactory(factory);
  const shell = new BoxPanel();
  shell.id = "main";
  const opener = new Opener(shell);
  const docs = new DocumentManager({ registry, manager, opener, sessionDialogs });
  // The test's copies of the notebooks are not written back while it runs.
  docs.autosave = false;
  const panel = docs.open(path) as NotebookPanel | undefined;
  if (!panel) throw new Error(`JupyterLab could not open ${path}`);
  Widget.attach(shell, document.body);
  addEventListener("resize", () => shell.update());
  bindKeys(panel, sessionDialogs);
  await panel.context.ready;
  const widgets = await addWidgetManager(panel);
  return { panel, widgets, runAll: () => NotebookActions.runAll(panel.content, panel.sessionContext, sessionDialogs) };
}

/** Puts an opened document into the page's one panel, as JupyterLab's shell puts it into its main area. */
class Opener implements IDocumentWidgetOpener {
  readonly opened: Signal<IDocumentWidgetOpener, IDocumentWidget> = new Signal(this);
  constructor(private readonly shell: BoxPanel) {}
  open(widget: IDocumentWidget): void {
    BoxPanel.setStretch(widget, 1);
    this.shell.addWidget(widget);
    this.opened.emit(widget);
  }
}

/** Shift+Enter runs the cell and selects the next, as in JupyterLab. */
function bindKeys(panel: NotebookPanel, sessionDialogs: SessionContextDialogs): void {
  const commands = new CommandRegistry();
  commands.addCommand("notebook:run-cell-and-select-next", {
    execute: () => NotebookActions.runAndAdvance(panel.content, panel.sessionContext, sessionDialogs),
  });
  commands.addKeyBinding({ selector: ".jp-Notebook", keys: ["Shift Enter"], command: "notebook:run-cell-and-select-next" });
  document.addEventListener("keydown", (event) => commands.processKeydownEvent(event), true);
}

const state = globalThis as unknown as { lab?: LabHandle; labError?: string };
open().then((handle) => { state.lab = handle; }, (error: Error) => { state.labError = `${error.message}\n${error.stack}`; });
