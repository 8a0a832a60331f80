//! Every plan the planner makes is valid SQL against the real schema: each
//! representative statement is prepared and run, as a collaborator, inside a
//! transaction that is rolled back.

use crate::support;

use support::TestDb;

#[test]
fn every_representative_plan_runs_against_the_demo_database() {
    let db = TestDb::demo();
    let mut commercial = db.session("ab123456789");
    let mut gestion = db.session("ac123456789");
    let plans = oc12::language::planner::representative_plans()
        .expect("the representative statements check");
    assert!(plans.len() >= 30);
    for (source, plan) in plans {
        // Gestion may do most writes; sign and pay are a commercial's own contract.
        let app = if source.starts_with("sign")
            || source.starts_with("pay")
            || source.starts_with("add client")
            || source.starts_with("add event")
        {
            &mut commercial
        } else {
            &mut gestion
        };
        let mut tx = app.transaction().unwrap();
        let statement = tx
            .prepare(&plan.sql)
            .unwrap_or_else(|e| panic!("{source}\n{}\n{e}", plan.sql));
        assert_eq!(
            statement.params().len(),
            plan.params.len(),
            "{source}: parameters"
        );
        let mut params = plan.params.clone();
        if oc12::language::planner::needs_password_hash(&match oc12::language::analyzer::analyze(
            &oc12::language::parser::parse(source).unwrap()[0],
        )
        .unwrap()
        {
            oc12::language::analyzer::Checked::Data(d) => d,
            _ => unreachable!(),
        }) {
            *params.last_mut().unwrap() = oc12::language::value::Param::Text(
                oc12::auth::hash_password_with_cost("x-pass-1", 4).unwrap(),
            );
        }
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|p| p as &(dyn postgres::types::ToSql + Sync))
            .collect();
        let rows = tx
            .query(&statement, &refs)
            .unwrap_or_else(|e| panic!("{source}\n{}\n{e}", plan.sql));
        // A plan without columns (a void function call) reads nothing back.
        if !plan.columns.is_empty() {
            assert_eq!(
                statement.columns().len(),
                plan.columns.len(),
                "{source}: result columns"
            );
        }
        for row in &rows {
            for (i, c) in plan.columns.iter().enumerate() {
                oc12::output::cell(row, i, c.ty)
                    .unwrap_or_else(|e| panic!("{source}: column {}: {e}", c.name));
            }
        }
        tx.rollback().unwrap();
    }
}
