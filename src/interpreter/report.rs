//! What monitoring hears of a data statement: its kind (verb and entity,
//! never values), and the events owed once its transaction commits (a
//! collaborator changed, a contract signed).

use crate::auth::Claims;
use crate::db::pool::Work;
use crate::error::Error;
use crate::interpreter::executor::Failure;
use crate::language::analyzer::{Assigned, Data};
use crate::language::catalog::{Entity, Writes};
use crate::language::value::Param;
use crate::monitoring::CollaboratorAction;

/// A monitoring event owed once the statement's transaction commits.
pub(super) enum Report {
    Collaborator {
        id: String,
        action: CollaboratorAction,
        fields: Vec<&'static str>,
    },
    Signed {
        contract: String,
        client: String,
        total: rust_decimal::Decimal,
        how: &'static str,
    },
}

impl Report {
    /// The report owed for a write to a record whose writes manage a
    /// PostgreSQL role (the catalogue's [`Writes::CollaboratorFunctions`]):
    /// who may log in, and as what, changed.
    pub(super) fn role_change(
        entity: &Entity,
        id: &str,
        action: CollaboratorAction,
        values: &[Assigned],
    ) -> Option<Report> {
        (entity.writes == Writes::CollaboratorFunctions).then(|| Report::Collaborator {
            id: id.to_owned(),
            action,
            fields: values.iter().map(|a| a.field.name).collect(),
        })
    }

    pub(super) fn send(self, claims: &Claims) {
        match self {
            Report::Collaborator { id, action, fields } => {
                crate::monitoring::collaborator_changed(claims, &id, action, &fields);
            }
            Report::Signed {
                contract,
                client,
                total,
                how,
            } => crate::monitoring::contract_signed(claims, &contract, &client, &total, how),
        }
    }
}

/// `sign contract`, `list events`: the verb and entity, never values.
pub(super) fn statement_kind(data: &Data) -> String {
    let (verb, entity) = match data {
        Data::List(q) => ("list", q.entity),
        Data::Count { entity, .. } => ("count", *entity),
        Data::Show(t) => ("show", t.entity),
        Data::Add { entity, .. } => ("add", *entity),
        Data::Set { target, .. } => ("set", target.entity),
        Data::Delete(t) => ("delete", t.entity),
        Data::Sign(t) => ("sign", t.entity),
        Data::Pay { target, .. } => ("pay", target.entity),
        Data::History(t) => ("history", t.entity),
    };
    format!("{verb} {}", entity.name)
}

pub(super) fn signed_report(
    client: &mut Work,
    contract: &str,
    how: &'static str,
) -> Result<Report, Failure> {
    let row = client
        .query_opt(
            "SELECT client, total FROM crm.contract WHERE id = $1::text",
            &[Param::Text(contract.to_owned())],
        )?
        .ok_or_else(|| Error::internal("a signed contract is gone"))?;
    Ok(Report::Signed {
        contract: contract.to_owned(),
        client: row.get(0),
        total: row.get(1),
        how,
    })
}
