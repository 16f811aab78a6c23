// The course's files: upload with a progress bar, and the list of what is uploaded.
//
// fetch() reports no upload progress, so uploads go through XMLHttpRequest, whose `upload`
// object does. The API takes the raw file as the body of one POST (streamed to disk as it
// arrives) and has no resumable uploads, so a failed or cancelled upload is restartable, not
// resumable: the page keeps the chosen file and sends it again from the first byte.
import { useRef, useState } from 'preact/hooks';
import { ApiError } from '../api/client';
import { announce } from '../components/ui';
import { formatDateTime, formatNumber, t } from '../i18n';
import { ProgressBar } from '../pages/student_shared';
import { useSession } from '../session';
import { type Media, failureText, setMediaPublic } from './course_api';

/** The types the server accepts (kernel/lectern-content/src/media/policy.rs), for the file picker. */
const ACCEPT = [
  'video/mp4',
  'video/webm',
  'audio/mpeg',
  'audio/ogg',
  'audio/wav',
  'application/pdf',
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'text/plain',
  'text/markdown',
  'text/csv',
  'text/vtt',
  '.md',
  '.vtt',
].join(',');

/**
 * A choice among the course's files (`choices`): each by its name, and `value` kept as an option
 * of its own when it is not among them (a file chosen earlier, since deleted or of another type).
 */
export function MediaSelect({
  id,
  value,
  choices,
  current,
  placeholder,
  describedBy,
  onChange,
}: {
  id: string;
  value: string;
  choices: Media[];
  /** How to name `value` when it is not among the choices. */
  current?: string;
  /** A first, empty option ("Choose…"); the select is then required. */
  placeholder?: string;
  describedBy?: string;
  onChange: (sha256: string) => void;
}) {
  return (
    <select
      id={id}
      required={placeholder !== undefined}
      value={value}
      aria-describedby={describedBy}
      onChange={(e) => onChange(e.currentTarget.value)}
    >
      {placeholder !== undefined && <option value="">{placeholder}</option>}
      {value && !choices.some((f) => f.sha256 === value) && <option value={value}>{current ?? value.slice(0, 12)}</option>}
      {choices.map((f) => (
        <option key={f.sha256} value={f.sha256}>
          {f.filename ?? f.sha256.slice(0, 12)}
        </option>
      ))}
    </select>
  );
}

/** Bytes in the locale's units ("1.2 MB"). */
export function formatBytes(bytes: number): string {
  const [value, unit] =
    bytes >= 1_000_000 ? [bytes / 1_000_000, 'megabyte'] : bytes >= 1000 ? [bytes / 1000, 'kilobyte'] : [bytes, 'byte'];
  return formatNumber(value, { style: 'unit', unit, unitDisplay: 'short', maximumFractionDigits: 1 });
}

/** The type to declare: the browser's guess, or one the server knows for a Markdown or WebVTT file. */
function declaredType(file: File): string {
  if (file.type) return file.type;
  if (/\.(md|markdown)$/i.test(file.name)) return 'text/markdown';
  if (/\.vtt$/i.test(file.name)) return 'text/vtt';
  return 'application/octet-stream';
}

/**
 * POSTs `file` to the course's media with progress. Resolves with the stored media; rejects with
 * an ApiError (the server's problem, status 0 for a network failure, `aborted` when cancelled).
 */
export function uploadWithProgress(
  url: string,
  file: File,
  onProgress: (sent: number, total: number) => void,
  xhrRef: { current: XMLHttpRequest | null },
): Promise<Media> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhrRef.current = xhr;
    xhr.open('POST', url);
    xhr.setRequestHeader('Content-Type', declaredType(file));
    xhr.setRequestHeader('Accept', 'application/json');
    // Cookie-authenticated writes must carry the CSRF header (see api/client.ts).
    xhr.setRequestHeader('Lectern-CSRF', '1');
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      xhrRef.current = null;
      let body: unknown = null;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = { detail: xhr.responseText };
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as Media);
      else reject(new ApiError(xhr.status, (body ?? {}) as ApiError['problem']));
    };
    xhr.onerror = () => {
      xhrRef.current = null;
      reject(new ApiError(0, { title: 'offline', detail: 'network error' }));
    };
    xhr.onabort = () => {
      xhrRef.current = null;
      reject(new ApiError(0, { title: 'aborted', detail: t('sc_upload_cancelled') }));
    };
    xhr.send(file);
  });
}

interface Upload {
  key: number;
  file: File;
  sent: number;
  total: number;
  state: 'uploading' | 'done' | 'failed';
  error?: unknown;
  media?: Media;
}

export function MediaLibrary({
  courseId,
  media,
  onChange,
}: {
  courseId: string;
  media: Media[];
  onChange: (m: Media[]) => void;
}) {
  const { institution } = useSession();
  const [uploads, setUploads] = useState<Upload[]>([]);
  const input = useRef<HTMLInputElement>(null);
  const xhrs = useRef(new Map<number, { current: XMLHttpRequest | null }>());
  const counter = useRef(0);
  const latest = useRef(media);
  latest.current = media;

  const url = (file: File) =>
    `/api/v1/institutions/${encodeURIComponent(institution)}/courses/${encodeURIComponent(courseId)}/media?filename=${encodeURIComponent(file.name)}`;

  function patch(key: number, p: Partial<Upload>) {
    setUploads((list) => list.map((u) => (u.key === key ? { ...u, ...p } : u)));
  }

  async function start(key: number, file: File) {
    const ref = { current: null as XMLHttpRequest | null };
    xhrs.current.set(key, ref);
    patch(key, { sent: 0, total: file.size, state: 'uploading', error: undefined });
    announce(t('sc_upload_started', { name: file.name }));
    try {
      const m = await uploadWithProgress(url(file), file, (sent, total) => patch(key, { sent, total }), ref);
      patch(key, { state: 'done', sent: file.size, media: m });
      onChange([...latest.current.filter((x) => x.sha256 !== m.sha256), m]);
      announce(t('sc_upload_done', { name: file.name }));
    } catch (e) {
      patch(key, { state: 'failed', error: e });
      announce(t('sc_upload_failed', { name: file.name }));
    }
  }

  async function togglePublic(m: Media, isPublic: boolean) {
    const name = m.filename ?? m.sha256.slice(0, 12);
    try {
      const updated = await setMediaPublic(institution, courseId, m.sha256, isPublic);
      onChange(latest.current.map((x) => (x.sha256 === updated.sha256 ? updated : x)));
      announce(t(isPublic ? 'sc_media_made_public' : 'sc_media_made_private', { name }));
    } catch (e) {
      announce(failureText(e));
    }
  }

  function choose() {
    const files = Array.from(input.current?.files ?? []);
    for (const file of files) {
      const key = ++counter.current;
      setUploads((list) => [...list, { key, file, sent: 0, total: file.size, state: 'uploading' }]);
      void start(key, file);
    }
    if (input.current) input.current.value = '';
  }

  return (
    <section aria-labelledby="media-h" class="sc-media">
      <h2 id="media-h">{t('sc_media_title')}</h2>
      <div class="field">
        <label for="media-file">{t('sc_media_choose')}</label>
        <input
          id="media-file"
          ref={input}
          type="file"
          multiple
          accept={ACCEPT}
          aria-describedby="media-hint"
          onChange={choose}
        />
        <p class="hint" id="media-hint">
          {t('sc_media_hint')}
        </p>
      </div>
      {uploads.length > 0 && (
        <ul class="plain stack sc-uploads" aria-label={t('sc_uploads')}>
          {uploads.map((u) => {
            const percent = u.total > 0 ? (u.sent / u.total) * 100 : 0;
            return (
              <li key={u.key} class="card sc-upload" data-state={u.state}>
                <p>
                  <strong>{u.file.name}</strong> <span class="muted">{formatBytes(u.file.size)}</span>
                </p>
                <ProgressBar percent={percent} label={t('sc_upload_progress', { name: u.file.name })} />
                <p class="hint" role="status">
                  {u.state === 'uploading' &&
                    t('sc_upload_sent', { sent: formatBytes(u.sent), total: formatBytes(u.total) })}
                  {u.state === 'done' && t('sc_upload_done', { name: u.file.name })}
                  {u.state === 'failed' && t('sc_upload_failed_why', { why: failureText(u.error) })}
                </p>
                <p class="row">
                  {u.state === 'uploading' && (
                    <button type="button" onClick={() => xhrs.current.get(u.key)?.current?.abort()}>
                      {t('sc_upload_cancel', { name: u.file.name })}
                    </button>
                  )}
                  {u.state === 'failed' && (
                    <button type="button" class="primary" onClick={() => void start(u.key, u.file)}>
                      {t('sc_upload_restart', { name: u.file.name })}
                    </button>
                  )}
                </p>
              </li>
            );
          })}
        </ul>
      )}
      <h3>{t('sc_media_uploaded')}</h3>
      {media.length === 0 ? (
        <p class="muted">{t('sc_media_none')}</p>
      ) : (
        <div class="table-wrap" role="region" aria-label={t('sc_media_uploaded')} tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">{t('sc_media_name')}</th>
                <th scope="col">{t('sc_media_type')}</th>
                <th scope="col">{t('sc_media_size')}</th>
                <th scope="col">{t('sc_media_when')}</th>
                <th scope="col">{t('sc_media_public')}</th>
              </tr>
            </thead>
            <tbody>
              {media.map((m) => (
                <tr key={m.sha256}>
                  <td>
                    <a href={m.url} download={m.filename ?? ''} data-external>
                      {m.filename ?? m.sha256.slice(0, 12)}
                    </a>
                  </td>
                  <td>{m.content_type}</td>
                  <td>{formatBytes(m.size)}</td>
                  <td>{formatDateTime(m.uploaded_at)}</td>
                  <td>
                    <input
                      type="checkbox"
                      checked={m.public}
                      aria-label={t('sc_media_public_label', { name: m.filename ?? m.sha256.slice(0, 12) })}
                      aria-describedby="media-public-hint"
                      onChange={(e) => void togglePublic(m, (e.currentTarget as HTMLInputElement).checked)}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p id="media-public-hint" class="hint">
            {t('sc_media_public_hint')}
          </p>
        </div>
      )}
    </section>
  );
}
