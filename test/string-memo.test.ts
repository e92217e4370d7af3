/**
 * The pickler's string memo (src/core/string-memo.ts): every string added is found again by
 * value with its memo index, a string never added is not found, whatever the table's size, and
 * after it gives way to a Map (a probe too long, as strings made to collide would cause).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StringMemo } from '../src/core/string-memo.js';

/** 20k strings: ASCII, non-ASCII, surrogates, empty, and prefixes of each other. */
function strings(): string[] {
  const out = [''];
  for (let i = 0; i < 20000; i++) {
    if (i % 7 === 0) out.push(`é${i}€`);
    else if (i % 11 === 0) out.push(`\ud83d\ude00${i}\ud800`);
    else if (i % 13 === 0) out.push('x'.repeat(i % 90));
    else out.push(`s${i}`);
  }
  return [...new Set(out)];
}

function check(memo: StringMemo, all: string[]): void {
  const buf = new Uint8Array(1024);
  for (const [i, s] of all.entries()) {
    memo.encode(s, buf, 0);
    assert.equal(memo.find(s), -1, `${JSON.stringify(s)} found before it was added`);
    memo.add(s, i);
  }
  for (const [i, s] of all.entries()) {
    memo.hashOf(s);
    assert.equal(memo.find(s), i, `${JSON.stringify(s)}`);
  }
  for (const s of ['never', 's20001', 'é1€']) {
    memo.hashOf(s);
    assert.equal(memo.find(s), -1, `${s} was never added`);
  }
}

test('strings are found by value with their index, as the table grows', () => {
  check(new StringMemo(), strings());
});

test('after a long probe the memo becomes a Map and still finds every string', () => {
  // A probe of 1 slot is "too long" at the first collision: the Map takes over early.
  const memo = new StringMemo(1);
  check(memo, strings());
  assert.ok((memo as unknown as { map?: Map<string, number> }).map instanceof Map);
});

test('reserve() makes room ahead without losing what is there', () => {
  const memo = new StringMemo();
  const all = strings();
  memo.reserve(50);
  check(memo, all.slice(0, 100));
  memo.reserve(all.length);
  for (const [i, s] of all.slice(0, 100).entries()) {
    memo.hashOf(s);
    assert.equal(memo.find(s), i);
  }
});
