// Which #private members of a chare class the runtime finds in its source (they can't travel with
// a moved or saved element, so moving or saving one is refused naming them).
import { describe, expect, it } from "vitest";
import { Chare } from "../../runtime/index.ts";
import { privateMembers } from "../../runtime/core/private-members.ts";

class Base extends Chare {
  #inBase = 1;
}

class Many extends Base {
  #field = 1;
  #bare: number | undefined;
  static #onTheClass = 2;
  plain = "#notAMember";
  get #getter() { return 1; }
  async #later() { return this.#bare; }
  *#steps() { yield this.#field; }
  method(): string {
    const o = { "#inAString": 1 };
    return `${JSON.stringify(o)} #inATemplate ${this.#getter} ${Many.#onTheClass}`;
  }
}

class Open extends Chare {
  shown = 1;
  method(): number {
    return this.shown;
  }
}

describe("privateMembers", () => {
  it("finds fields, methods, accessors and generators at the class body's top level, its bases' too; not static ones, strings or uses", () => {
    expect(privateMembers(Many, Chare).sort()).toEqual(["#bare", "#field", "#getter", "#inBase", "#later", "#steps"]);
  });

  it("finds none in a class without them, and none of Chare's own", () => {
    expect(privateMembers(Open, Chare)).toEqual([]);
  });
});
