//! The statements about the shell rather than the data: `quit`, `format`,
//! `help`, `lookup`, and the session ones, `login`, `logout`, `whoami`,
//! `passwd`.

use std::io::{self, Write};

use crate::auth;
use crate::config;
use crate::db::pool::{LoginOutcome, Need};
use crate::db::translate::map_error;
use crate::error::{Error, Result};
use crate::interpreter::session::{Flow, Session};
use crate::language::analyzer::Meta;
use crate::language::catalog::Department;
use crate::language::help;
use crate::language::value::Param;
use crate::output;
use crate::output::Printer;
use crate::terminal;

impl Session {
    pub(super) fn run_meta(&mut self, meta: Meta, out: &mut Printer<impl Write>) -> Result<Flow> {
        let said = |out: &mut Printer<_>, text: &str| match out.message(text) {
            Ok(()) => Ok(Flow::Continue),
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(Flow::Closed),
            Err(e) => Err(Error::internal(format!("cannot write: {e}"))),
        };
        match meta {
            Meta::Quit => Ok(Flow::Quit),
            Meta::Format(f) => {
                self.format = f;
                out.set_format(self.format);
                Ok(Flow::Continue)
            }
            Meta::Help(topic) => said(out, &topic.map_or_else(help::overview, |t| t.text())),
            Meta::Lookup(lookup) => {
                crate::interpreter::registry::lookup(&self.config, &lookup, out)
            }
            Meta::Logout => {
                let text = self.logout()?;
                said(out, &text)
            }
            Meta::Whoami => {
                let text = self.whoami()?;
                said(out, &text)
            }
            Meta::Login(registration) => {
                let registration = match registration {
                    Some(r) => r,
                    None if self.interactive => terminal::ask("registration number: ")?,
                    None => return Err(Error::usage("login needs a registration number")),
                };
                if !self.interactive {
                    return Err(Error::usage(
                        "a password cannot be given in a script; log in first with \
                         `oc12-shell login REGISTRATION --password-stdin`",
                    ));
                }
                let password = terminal::read_password("password")?;
                let text = self.login(&registration, &password)?;
                said(out, &text)
            }
            Meta::Passwd(registration) => {
                let text = self.passwd(registration.as_deref())?;
                said(out, &text)
            }
        }
    }

    /// Logs in on the server and saves the session; returns the greeting.
    pub fn login(&mut self, registration: &str, password: &str) -> Result<String> {
        let registration = registration.trim().to_ascii_lowercase();
        let ttl = auth::parse_ttl(self.config.get(config::TOKEN_TTL).unwrap_or("8h"))?;
        let outcome = self.database()?.login(&registration, password, ttl)?;
        let credential = match outcome {
            LoginOutcome::LoggedIn(c) => c,
            LoginOutcome::Wrong { failures } => {
                crate::monitoring::failed_logins(&registration, failures);
                return Err(Error::auth(format!(
                    "wrong registration number or password for `{registration}`"
                )));
            }
            LoginOutcome::Throttled {
                retry_after,
                failures,
            } => {
                crate::monitoring::failed_logins(&registration, failures);
                return Err(Error::auth(format!(
                    "too many failed logins for `{registration}` ({failures} in a row); \
                     try again in {retry_after} s"
                )));
            }
        };
        auth::save_token(&self.config.paths.state, &credential.to_line())?;
        let department = credential.claims.dept.clone();
        *self.identity.lock().unwrap_or_else(|e| e.into_inner()) = Some(credential);
        Ok(format!("logged in as {registration} ({department})"))
    }

    /// Ends this shell's session on the server (every copy of its token),
    /// and removes the token file if it still holds that session.
    fn logout(&mut self) -> Result<String> {
        let current = self
            .identity
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let credential = match current {
            Some(c) => Some(c),
            None => {
                auth::load_credential(&self.config.paths.state, self.config.get(config::JWT)).ok()
            }
        };
        if let Some(c) = &credential {
            self.database()?.logout(c)?;
        }
        let saved = auth::load_token(&self.config.paths.state, None).ok();
        if saved.is_some_and(|line| credential.as_ref().is_none_or(|c| line == c.to_line())) {
            auth::delete_token(&self.config.paths.state)?;
        }
        Ok("logged out".to_owned())
    }

    fn whoami(&mut self) -> Result<String> {
        let credential = self.credential()?;
        let claims = &credential.claims;
        let mut work = self.work(&credential, Need::Reads)?;
        let name: String = work
            .query_opt(
                "SELECT name FROM crm.collaborator WHERE id = $1::text",
                &[Param::Text(claims.sub.clone())],
            )?
            .ok_or_else(|| Error::auth(format!("{} no longer exists; log in again", claims.sub)))?
            .get(0);
        let until = output::time_labelled(claims.expires_at());
        Ok(format!(
            "{} {name} ({}), session until {until}",
            claims.sub, claims.dept
        ))
    }

    fn passwd(&mut self, registration: Option<&str>) -> Result<String> {
        let credential = self.credential()?;
        let claims = credential.claims.clone();
        let target = registration.map_or_else(|| claims.sub.clone(), str::to_ascii_lowercase);
        let own = target == claims.sub;
        if !own && claims.dept != Department::Gestion.name() {
            return Err(Error::permission(
                "only gestion may reset another collaborator's password",
            ));
        }
        let (password, generated) = if own {
            if !self.interactive {
                return Err(Error::usage(
                    "changing your password needs a terminal: run `passwd` at the prompt",
                ));
            }
            let current = terminal::read_password("current password")?;
            let new = terminal::read_new_password("password")?;
            let hash = auth::hash_password(&new)?;
            let mut work = self.work(&credential, Need::Transaction)?;
            let salt: String = work
                .client()
                .query_one("SELECT crm.login_salt($1)", &[&claims.sub])
                .map_err(|e| map_error(&e))?
                .get(0);
            let proof = auth::proof(&current, &salt)?;
            work.client()
                .execute("SELECT crm.change_password($1, $2)", &[&proof, &hash])
                .map_err(|e| match e.code() {
                    Some(c) if *c == postgres::error::SqlState::INVALID_PASSWORD => {
                        Error::auth("the current password is wrong")
                    }
                    _ => map_error(&e),
                })?;
            work.commit()?;
            (new, false)
        } else {
            let password = if self.interactive {
                terminal::read_new_password(&format!("password for {target}"))?
            } else {
                auth::generate_password()
            };
            let hash = auth::hash_password(&password)?;
            let mut work = self.work(&credential, Need::Transaction)?;
            work.client()
                .execute("SELECT crm.set_password($1, $2)", &[&target, &hash])
                .map_err(|e| map_error(&e))?;
            work.commit()?;
            (password, !self.interactive)
        };
        crate::monitoring::collaborator_changed(
            &claims,
            &target,
            crate::monitoring::CollaboratorAction::Changed,
            &["password"],
        );
        Ok(if generated {
            format!("new password for {target}: {password}\n(shown once: hand it over privately)")
        } else if own {
            "password changed; your other sessions are ended".to_owned()
        } else {
            format!("password changed for {target}; their sessions are ended")
        })
    }
}
