//! Sessions in Redis: `P:session:<SHA-256 of the token>`, living the session's time.

use super::{RedisState, hex};
use async_trait::async_trait;
use gateway_domain::sessions::{Session, digest, new_token};
use gateway_domain::shared::{Sessions, StateError};
use mis::PatientId;

#[async_trait]
impl Sessions for RedisState {
    async fn create(
        &self,
        clinic: &str,
        patient: PatientId,
    ) -> Result<(String, Session), StateError> {
        let token = new_token().map_err(|e| StateError(e.to_string()))?;
        let session = Session::new(clinic, patient, self.session_ttl);
        let value = serde_json::to_string(&session).map_err(|e| StateError(e.to_string()))?;
        let key = self.key(&["session", &hex(&digest(&token))]);
        let ttl = u64::try_from(self.session_ttl.as_millis()).unwrap_or(u64::MAX);
        let () = self
            .query(redis::cmd("SET").arg(&key).arg(value).arg("PX").arg(ttl))
            .await?;
        Ok((token, session))
    }

    async fn put(&self, token: &str, session: &Session) -> Result<(), StateError> {
        let left = (session.expires_at - chrono::Utc::now()).num_milliseconds();
        if left <= 0 {
            return Ok(());
        }
        let value = serde_json::to_string(session).map_err(|e| StateError(e.to_string()))?;
        let key = self.key(&["session", &hex(&digest(token))]);
        let () = self
            .query(redis::cmd("SET").arg(&key).arg(value).arg("PX").arg(left))
            .await?;
        Ok(())
    }

    async fn get(&self, token: &str) -> Result<Option<Session>, StateError> {
        let key = self.key(&["session", &hex(&digest(token))]);
        let value: Option<String> = self.query(redis::cmd("GET").arg(&key)).await?;
        Ok(value
            .and_then(|v| serde_json::from_str::<Session>(&v).ok())
            .filter(Session::is_live))
    }

    async fn end(&self, token: &str) -> Result<bool, StateError> {
        let key = self.key(&["session", &hex(&digest(token))]);
        let n: u64 = self.query(redis::cmd("DEL").arg(&key)).await?;
        Ok(n > 0)
    }

    fn count(&self) -> Option<u64> {
        None
    }
}
