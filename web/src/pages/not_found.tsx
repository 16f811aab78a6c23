import { PageTitle } from '../components/ui';
import { t } from '../i18n';

export function NotFound() {
  return (
    <>
      <PageTitle text={t('not_found_title')} />
      <p>{t('error_not_found')}</p>
      <p>
        <a href="/">{t('home')}</a>
      </p>
    </>
  );
}
