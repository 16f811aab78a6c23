// A video item's captions and subtitles, in its settings: WebVTT files from the course's media
// (uploaded under Files), each with a language, a label and at most one default. Saved with
// `PUT …/content/items/{id}/captions` (its own resource: saving tracks never conflicts with an
// outline edit); the student's player lists them in its captions menu.
import { useEffect, useState } from 'preact/hooks';
import { api, call, type Schemas } from '../api/client';
import { ErrorBox, announce, useLoad } from '../components/ui';
import { t } from '../i18n';
import { useSession } from '../session';
import { type Media, coursePath } from './course_api';
import { MediaSelect } from './course_media';

type Track = Schemas['CaptionInput'];

export function CaptionsEditor({
  courseId,
  itemId,
  title,
  media,
}: {
  courseId: string;
  itemId: string;
  title: string;
  media: Media[];
}) {
  const { institution } = useSession();
  const path = { ...coursePath(institution, courseId), item_id: itemId };
  const loaded = useLoad(
    () => call(api.GET('/api/v1/institutions/{institution}/courses/{course_id}/content/items/{item_id}', { params: { path } })),
    [courseId, itemId],
  );
  const [tracks, setTracks] = useState<Track[] | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    if (loaded.data)
      setTracks(loaded.data.captions.map((c) => ({ media: c.media, lang: c.lang, label: c.label, default: c.default })));
  }, [loaded.data]);

  const files = media.filter((f) => f.content_type.startsWith('text/vtt'));
  const base = `cap-${itemId}`;
  const set = (i: number, p: Partial<Track>) =>
    setTracks((ts) => ts?.map((x, j) => (j === i ? { ...x, ...p } : p.default ? { ...x, default: false } : x)));

  async function save(e: Event) {
    e.preventDefault();
    if (!tracks) return;
    setBusy(true);
    setError(undefined);
    try {
      const r = await call(
        api.PUT('/api/v1/institutions/{institution}/courses/{course_id}/content/items/{item_id}/captions', {
          params: { path },
          body: { tracks },
        }),
      );
      setTracks(r.tracks.map((c) => ({ media: c.media, lang: c.lang, label: c.label, default: c.default })));
      announce(t('sc_captions_saved', { title }));
    } catch (e2) {
      setError(e2);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="stack sc-captions" onSubmit={save} aria-labelledby={`${base}-h`}>
      <h4 id={`${base}-h`}>{t('sc_captions_title')}</h4>
      <p class="hint">{t('sc_captions_hint')}</p>
      {loaded.error !== undefined && <ErrorBox error={loaded.error} onRetry={loaded.reload} />}
      {error !== undefined && <ErrorBox error={error} />}
      {tracks && tracks.length === 0 && <p class="muted">{t('sc_captions_none')}</p>}
      {tracks && tracks.length > 0 && (
        <ol class="sc-tracks">
          {tracks.map((tr, i) => (
            <li key={i}>
              <fieldset>
                <legend>{t('sc_captions_track_n', { n: i + 1 })}</legend>
                <div class="field">
                  <label for={`${base}-${i}-file`}>{t('sc_captions_file')}</label>
                  <MediaSelect
                    id={`${base}-${i}-file`}
                    value={tr.media}
                    choices={files}
                    placeholder={t('sc_choose')}
                    onChange={(media) => set(i, { media })}
                  />
                </div>
                <div class="field">
                  <label for={`${base}-${i}-lang`}>{t('sc_captions_lang')}</label>
                  <input
                    id={`${base}-${i}-lang`}
                    required
                    value={tr.lang}
                    size={10}
                    aria-describedby={`${base}-lang-hint`}
                    onInput={(e) => set(i, { lang: e.currentTarget.value })}
                  />
                </div>
                <div class="field">
                  <label for={`${base}-${i}-label`}>{t('sc_captions_label')}</label>
                  <input
                    id={`${base}-${i}-label`}
                    required
                    maxLength={100}
                    value={tr.label}
                    onInput={(e) => set(i, { label: e.currentTarget.value })}
                  />
                </div>
                <label class="check">
                  <input type="checkbox" checked={!!tr.default} onChange={(e) => set(i, { default: e.currentTarget.checked })} />
                  <span>{t('sc_captions_default')}</span>
                </label>
                <button type="button" onClick={() => setTracks(tracks.filter((_, j) => j !== i))}>
                  {t('sc_captions_remove', { n: i + 1 })}
                </button>
              </fieldset>
            </li>
          ))}
        </ol>
      )}
      <p class="hint" id={`${base}-lang-hint`}>
        {files.length ? t('sc_captions_lang_hint') : t('sc_captions_no_files')}
      </p>
      <p class="row">
        <button
          type="button"
          disabled={!tracks || files.length === 0}
          onClick={() => setTracks([...(tracks ?? []), { media: files[0]?.sha256 ?? '', lang: '', label: '', default: false }])}
        >
          {t('sc_captions_add')}
        </button>
        <button type="submit" class="primary" disabled={busy || !tracks}>
          {t('sc_captions_save', { title })}
        </button>
      </p>
    </form>
  );
}
