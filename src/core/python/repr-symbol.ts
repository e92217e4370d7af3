/**
 * A class that knows its Python repr implements `[reprSymbol](repr)`, where `repr` formats the
 * values it holds (so cycles and options carry through). `pyRepr` and `pickle show` use it.
 */
export const reprSymbol = Symbol.for('pickle-ts.repr');
