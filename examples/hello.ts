// The seed's "Charm4Py Basics" program: eight chares say hello from the PEs they live on.
import { charm, Chare } from "charm4ts";

export class HelloWorld extends Chare {
  sayHello() {
    console.log("Hello from chare:", this.thisIndex[0], "on PE", charm.myPe());
  }
}

function main(args: string[]) {
  const chares = charm.array(HelloWorld, 8);
  chares.sayHello();
}
charm.start(main);
