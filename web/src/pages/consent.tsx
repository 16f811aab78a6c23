import { PageTitle } from '../components/ui';
import { t } from '../i18n';

export function Consent() {
  return <PageTitle text={t('consent_title')} />;
}
