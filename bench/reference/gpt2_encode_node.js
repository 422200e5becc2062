#!/usr/bin/env node
// Same-machine reference for bench/tokenizer_encode.cpp: GPT-2 encoding with the
// npm package gpt-3-encoder@1.1.4 (a port of OpenAI's encoder.py), timed on one
// thread over the same corpus, ids written for comparison.
//
// usage:
//   mkdir -p /tmp/gpt3enc && tar xzf ../shared/tokenizers/gpt2/gpt-3-encoder-1.1.4.tgz -C /tmp/gpt3enc
//   build/bench_tokenizer_encode --write-corpus /tmp/corpus.txt --ids-out /tmp/ids_cpp.bin
//   node bench/reference/gpt2_encode_node.js /tmp/gpt3enc/package /tmp/corpus.txt /tmp/ids_node.bin
//   cmp /tmp/ids_cpp.bin /tmp/ids_node.bin
// The ids file is little-endian int32, as bench_tokenizer_encode --ids-out writes it.
// When a fourth argument names the C++ ids file, the first difference is reported.

'use strict';
const fs = require('fs');
const path = require('path');

if (process.argv.length < 4) {
  console.error('usage: gpt2_encode_node.js PACKAGE_DIR CORPUS [IDS_OUT] [IDS_TO_COMPARE]');
  process.exit(2);
}
const [pkg, corpusPath, idsOut, compareWith] = process.argv.slice(2);
const { encode } = require(path.resolve(pkg, 'Encoder.js'));
const corpus = fs.readFileSync(corpusPath, 'utf-8');
const mbytes = Buffer.byteLength(corpus, 'utf-8') / 1e6;

// encode() appends each word's ids with Array.concat, which is quadratic in the
// length of its input, so the corpus is cut into chunks of about 4 KB. A cut
// is made only between two pre-tokens that both end and start with a
// non-space character, where the regex gives the same pieces in a chunk as in
// the whole text: encoding the chunks gives exactly the ids of the whole.
const pat = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
const chunks = [];
let start = 0;
let prevEndsNonSpace = false;
for (const m of corpus.matchAll(pat)) {
  if (m.index - start >= 4096 && prevEndsNonSpace && !/^\s/u.test(m[0])) {
    chunks.push(corpus.slice(start, m.index));
    start = m.index;
  }
  prevEndsNonSpace = !/\s$/u.test(m[0]);
}
chunks.push(corpus.slice(start));

const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const ids = [];
for (const chunk of chunks) for (const id of encode(chunk)) ids.push(id);
const wall = Number(process.hrtime.bigint() - t0) / 1e9;
const cpuUsed = process.cpuUsage(cpu0);
const cpu = (cpuUsed.user + cpuUsed.system) / 1e6;

console.log(`gpt-3-encoder@1.1.4 on node ${process.version}: ${mbytes.toFixed(2)} MB in ${chunks.length} chunks, ${ids.length} tokens`);
console.log(`encode: wall ${wall.toFixed(3)} s  ${(mbytes / wall).toFixed(2)} MB/s;` +
            ` process CPU ${cpu.toFixed(3)} s  ${(mbytes / cpu).toFixed(2)} MB/s`);

const out = Buffer.alloc(ids.length * 4);
ids.forEach((id, i) => out.writeInt32LE(id, i * 4));
if (idsOut) fs.writeFileSync(idsOut, out);
if (compareWith) {
  const other = fs.readFileSync(compareWith);
  const n = Math.min(other.length, out.length) / 4;
  let i = 0;
  while (i < n && other.readInt32LE(i * 4) === ids[i]) ++i;
  if (i === n && other.length === out.length) {
    console.log(`ids: all ${ids.length} identical`);
  } else {
    console.log(`ids: first difference at token ${i} (node ${ids[i]}, other ${i < other.length / 4 ? other.readInt32LE(i * 4) : 'none'});` +
                ` counts ${ids.length} vs ${other.length / 4}`);
    process.exitCode = 1;
  }
}
