// Makes tests/web/fixtures/photosynthesis.webm, the short lecture video the seed uploads.
//
// No ffmpeg here: Chromium draws the frames on a canvas, encodes them with WebCodecs (VP8), and
// this script muxes the chunks into a WebM with a duration and cues (one cluster, and one cue,
// per second), so a <video> can show its length and seek with Range requests. Chromium then plays
// the result back and seeks in it as a check. Run it again only to change the video:
//
//   node tests/web/tools/make-video.mjs [out.webm]
//
// The frames show the elapsed second in large digits, so a test that seeks can see where it is.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { launch } from '../harness.mjs';

const WIDTH = 320;
const HEIGHT = 180;
const FPS = 10;
const SECONDS = 8;

const out = process.argv[2] ?? fileURLToPath(new URL('../fixtures/photosynthesis.webm', import.meta.url));

// ---- EBML writing (https://www.matroska.org/technical/elements.html) ----

/** An EBML variable-size integer of `len` bytes (minimal when `len` is absent). */
function vint(n, len) {
  if (len === undefined) {
    len = 1;
    while (n >= 2 ** (7 * len) - 1) len++;
  }
  const b = Buffer.alloc(len);
  let v = BigInt(n);
  for (let i = len - 1; i >= 0; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  b[0] |= 0x80 >> (len - 1);
  return b;
}

/** An unsigned integer payload, `len` bytes (minimal when absent). */
function uint(n, len) {
  if (len === undefined) {
    len = 1;
    while (n >= 2 ** (8 * len)) len++;
  }
  const b = Buffer.alloc(len);
  b.writeUIntBE(n, 0, len);
  return b;
}

function idBytes(id) {
  return Buffer.from(id.toString(16).padStart(id > 0xffffff ? 8 : id > 0xffff ? 6 : id > 0xff ? 4 : 2, '0'), 'hex');
}

/** An element: id, size, payload (a Buffer or a list of child elements). */
function el(id, payload) {
  const data = Array.isArray(payload) ? Buffer.concat(payload) : payload;
  return Buffer.concat([idBytes(id), vint(data.length), data]);
}

const str = (s) => Buffer.from(s, 'utf8');
function f64(x) {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(x);
  return b;
}

/**
 * Muxes VP8 chunks (`{ key, timestampUs, data }`, in order) into a WebM file. Positions in the
 * SeekHead and Cues are 4-byte integers, so the layout's size does not depend on their values.
 */
function mux(chunks, durationMs) {
  const info = el(0x1549a966, [
    el(0x2ad7b1, uint(1_000_000)), // TimecodeScale: 1 ms
    el(0x4489, f64(durationMs)), // Duration
    el(0x4d80, str('lectern tests/web/tools/make-video.mjs')), // MuxingApp
    el(0x5741, str('Chromium WebCodecs VP8')), // WritingApp
  ]);
  const tracks = el(0x1654ae6b, [
    el(0xae, [
      el(0xd7, uint(1)), // TrackNumber
      el(0x73c5, uint(1)), // TrackUID
      el(0x83, uint(1)), // TrackType: video
      el(0x9c, uint(0)), // FlagLacing
      el(0x86, str('V_VP8')), // CodecID
      el(0xe0, [el(0xb0, uint(WIDTH)), el(0xba, uint(HEIGHT))]), // Video: PixelWidth, PixelHeight
    ]),
  ]);

  // One cluster per key frame.
  const clusters = [];
  for (const c of chunks) {
    const ms = Math.round(c.timestampUs / 1000);
    if (c.key) clusters.push({ timecode: ms, blocks: [] });
    const cl = clusters[clusters.length - 1];
    const head = Buffer.alloc(4);
    head[0] = 0x81; // track number 1 as a vint
    head.writeInt16BE(ms - cl.timecode, 1);
    head[3] = c.key ? 0x80 : 0x00; // SimpleBlock flags: keyframe
    cl.blocks.push(el(0xa3, Buffer.concat([head, c.data])));
  }
  const clusterBytes = clusters.map((cl) => el(0x1f43b675, [el(0xe7, uint(cl.timecode)), ...cl.blocks]));

  const cues = (positions) =>
    el(
      0x1c53bb6b,
      clusters.map((cl, i) =>
        el(0xbb, [el(0xb3, uint(cl.timecode, 4)), el(0xb7, [el(0xf7, uint(1)), el(0xf1, uint(positions[i], 4))])]),
      ),
    );
  const seekHead = (pos) =>
    el(
      0x114d9b74,
      [
        [0x1549a966, pos.info],
        [0x1654ae6b, pos.tracks],
        [0x1c53bb6b, pos.cues],
      ].map(([id, p]) => el(0x4dbb, [el(0x53ab, idBytes(id)), el(0x53ac, uint(p, 4))])),
    );

  // Sizes first (placeholders), then the real offsets from the segment's data start.
  const headLen = seekHead({ info: 0, tracks: 0, cues: 0 }).length;
  const pos = { info: headLen };
  pos.tracks = pos.info + info.length;
  pos.cues = pos.tracks + tracks.length;
  let at = pos.cues + cues(clusters.map(() => 0)).length;
  const clusterPos = clusterBytes.map((b) => {
    const p = at;
    at += b.length;
    return p;
  });
  const segmentData = Buffer.concat([seekHead(pos), info, tracks, cues(clusterPos), ...clusterBytes]);

  const ebml = el(0x1a45dfa3, [
    el(0x4286, uint(1)), // EBMLVersion
    el(0x42f7, uint(1)), // EBMLReadVersion
    el(0x42f2, uint(4)), // EBMLMaxIDLength
    el(0x42f3, uint(8)), // EBMLMaxSizeLength
    el(0x4282, str('webm')), // DocType
    el(0x4287, uint(2)), // DocTypeVersion
    el(0x4285, uint(2)), // DocTypeReadVersion
  ]);
  return Buffer.concat([ebml, el(0x18538067, segmentData)]);
}

// ---- Drawing and encoding in Chromium ----

/** Runs in the page: draws and encodes every frame, returns the chunks (data as base64). */
async function encodeInPage({ WIDTH, HEIGHT, FPS, SECONDS }) {
  const canvas = document.createElement('canvas');
  canvas.width = WIDTH;
  canvas.height = HEIGHT;
  const g = canvas.getContext('2d');
  const chunks = [];
  const encoder = new VideoEncoder({
    output: (chunk) => {
      const data = new Uint8Array(chunk.byteLength);
      chunk.copyTo(data);
      let bin = '';
      for (const b of data) bin += String.fromCharCode(b);
      chunks.push({ key: chunk.type === 'key', timestampUs: chunk.timestamp, data: btoa(bin) });
    },
    error: (e) => {
      throw e;
    },
  });
  encoder.configure({ codec: 'vp8', width: WIDTH, height: HEIGHT, bitrate: 60_000, framerate: FPS });
  const frames = FPS * SECONDS;
  for (let i = 0; i < frames; i++) {
    const t = i / FPS;
    // Sky, ground, the sun moving across, a leaf, the equation and the elapsed second.
    g.fillStyle = '#dff3ff';
    g.fillRect(0, 0, WIDTH, HEIGHT);
    g.fillStyle = '#7cc36b';
    g.fillRect(0, HEIGHT - 40, WIDTH, 40);
    g.fillStyle = '#f5b700';
    g.beginPath();
    g.arc(30 + (t / SECONDS) * (WIDTH - 60), 34, 18, 0, 2 * Math.PI);
    g.fill();
    g.fillStyle = '#2e7d32';
    g.beginPath();
    g.ellipse(250, 110, 40, 18, -0.5, 0, 2 * Math.PI);
    g.fill();
    g.fillStyle = '#1b1b1b';
    g.font = 'bold 16px sans-serif';
    g.fillText('Photosynthesis', 12, 80);
    g.font = '12px sans-serif';
    g.fillText('6 CO2 + 6 H2O + light', 12, 100);
    g.fillText('-> C6H12O6 + 6 O2', 12, 116);
    g.font = 'bold 28px monospace';
    g.fillText(`${Math.floor(t)} s`, 12, HEIGHT - 10);
    const frame = new VideoFrame(canvas, { timestamp: Math.round(t * 1e6), duration: Math.round(1e6 / FPS) });
    encoder.encode(frame, { keyFrame: i % FPS === 0 });
    frame.close();
  }
  await encoder.flush();
  encoder.close();
  return chunks;
}

/** Runs in the page: plays the file back and seeks; returns what the element reports. */
async function checkInPage(b64) {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const v = document.createElement('video');
  v.muted = true;
  v.src = URL.createObjectURL(new Blob([bytes], { type: 'video/webm' }));
  document.body.append(v);
  await new Promise((ok, fail) => {
    v.onloadedmetadata = ok;
    v.onerror = () => fail(new Error(`cannot load: ${v.error?.message}`));
  });
  v.currentTime = 5.2;
  await new Promise((ok) => (v.onseeked = ok));
  return { duration: v.duration, width: v.videoWidth, height: v.videoHeight, seekable: v.seekable.length, at: v.currentTime };
}

const browser = await launch();
try {
  const page = await browser.newPage();
  // WebCodecs needs a secure context; http://localhost is one. Nothing is fetched from the network.
  await page.route('http://localhost/**', (r) => r.fulfill({ contentType: 'text/html', body: '<!doctype html><title>video</title>' }));
  await page.goto('http://localhost/');
  const raw = await page.evaluate(encodeInPage, { WIDTH, HEIGHT, FPS, SECONDS });
  const chunks = raw.map((c) => ({ ...c, data: Buffer.from(c.data, 'base64') }));
  const file = mux(chunks, SECONDS * 1000);
  const check = await page.evaluate(checkInPage, file.toString('base64'));
  if (Math.abs(check.duration - SECONDS) > 0.2 || check.width !== WIDTH || Math.abs(check.at - 5.2) > 0.2) {
    throw new Error(`the muxed video does not play back as made: ${JSON.stringify(check)}`);
  }
  await writeFile(out, file);
  console.log(`${out}: ${file.length} bytes, ${chunks.length} frames, playback ${JSON.stringify(check)}`);
} finally {
  await browser.close();
}
