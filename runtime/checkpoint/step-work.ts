/** The checkpoint and restore steps an endpoint runs for the driver (loaded on first use: on-demand.ts). */
import type { Message } from "../protocol/messages.ts";
import type { Runtime } from "../core/runtime.ts";
import { checkHere, saveHere, type SaveRequest } from "./save.ts";
import { fetchPart, keepPart } from "./memory.ts";
import { atBarrier } from "./barrier.ts";
import type { CollectionId } from "../protocol/ids.ts";
import { abortHere, hooksHere, installHere, loadHere, placeHere, type InstallRequest, type LoadRequest, type Placed } from "./load.ts";

type CkptMsg = Extract<Message, { t: "ckpt" }>;

/** Runs one step here; returns its answer (or a promise of it). */
export function runStep(rt: Runtime, msg: CkptMsg): unknown {
  switch (msg.step) {
    case "save": return saveHere(rt, msg.v as SaveRequest);
    case "load": return loadHere(rt, msg.v as LoadRequest);
    case "install": return installHere(rt, msg.v as InstallRequest);
    case "place": return placeHere(rt, msg.v as Placed[]);
    case "hooks": return hooksHere(rt, msg.v as number);
    case "abort": return abortHere(rt, msg.v as number[]);
    case "keep": { const k = msg.v as { pe: number; stem: string; data: Uint8Array }; return keepPart(k.pe, k.stem, k.data); }
    case "fetch": { const f = msg.v as { pe: number; stem: string }; return fetchPart(rt, f.pe, f.stem); }
    case "barrier": return atBarrier(rt, msg.v as Extract<Message, { t: "lbPlan" }>);
    case "check": return checkHere(rt, msg.v as number[]);
    case "resume": return rt.balancing.resumeRestored(msg.v as CollectionId[]);
  }
}
