//! A realistic SOP, built by hand, shared by the tests.

#![allow(dead_code)]

use tacit_sop::*;

pub fn src(run: &str, seq: u64) -> SourceRef {
    SourceRef {
        run_id: run.to_string(),
        seq,
    }
}

const RUN_A: &str = "019a4f2c-7d3e-7b21-9c55-0e8f1a2b3c4d";
const RUN_B: &str = "019a5b10-22aa-7c03-8e11-5f6a7b8c9d0e";

pub fn deploy_webapp() -> Sop {
    Sop {
        id: "deploy-webapp".into(),
        title: "Deploy the web app".into(),
        owner: Some("alice@example.com".into()),
        review_every_days: Some(90),
        version: 2,
        parameters: vec![Parameter {
            name: "version".into(),
            description: "Release tag to deploy, as pushed to git".into(),
            examples: vec!["v2.4.1".into(), "v2.4.0".into()],
            secret: false,
        }],
        purpose: "Ship a tagged release of the web app to production, with its database migrations.".into(),
        when_to_use: "A release tag has been pushed and approved, and the deploy window is open.".into(),
        prerequisites: vec![Prerequisite {
            description: "The deploy environment is configured (credentials, target host)".into(),
            check: Some("./deploy/check-env.sh".into()),
            sources: vec![src(RUN_A, 2)],
        }],
        steps: vec![
            Step {
                title: "Pull the latest code".into(),
                commands: vec!["cd app && git pull".into()],
                expect: Expectation {
                    exit_code: Some(0),
                    output_contains: vec![],
                },
                sources: vec![src(RUN_A, 4), src(RUN_B, 3)],
                ..Default::default()
            },
            Step {
                title: "Build the release".into(),
                commands: vec!["./deploy/build.sh <<version>>".into()],
                cwd: Some("app".into()),
                expect: Expectation {
                    exit_code: Some(0),
                    output_contains: vec!["build ok".into()],
                },
                why: Some("The release script ships whatever the build left in `dist/`.".into()),
                caution: Some("Never run it while an old build is still being uploaded.".into()),
                sources: vec![src(RUN_A, 6), src(RUN_B, 5)],
                ..Default::default()
            },
            Step {
                title: "Run database migrations".into(),
                commands: vec!["./deploy/migrate.sh".into()],
                cwd: Some("app".into()),
                expect: Expectation {
                    exit_code: Some(0),
                    output_contains: vec![],
                },
                sources: vec![src(RUN_A, 8), src(RUN_B, 7)],
                ..Default::default()
            },
            Step {
                title: "Release".into(),
                commands: vec!["./deploy/release.sh <<version>>".into()],
                cwd: Some("app".into()),
                expect: Expectation {
                    exit_code: Some(0),
                    output_contains: vec![],
                },
                sources: vec![src(RUN_A, 14), src(RUN_B, 9)],
                ..Default::default()
            },
        ],
        rules: vec![DecisionRule {
            step: Some("Run database migrations".into()),
            when: Condition {
                summary: "migration lock held".into(),
                exit_code: Some(3),
                output_contains: Some("migration lock held".into()),
            },
            then: "Check whether pid in the lock file is still running; if not, remove the stale lock and rerun the migration.".into(),
            then_commands: vec![
                "cat /var/lock/migrate.lock".into(),
                "rm /var/lock/migrate.lock && ./deploy/migrate.sh".into(),
            ],
            because: "A lock whose process is gone is left over from a crashed run. Never remove a lock held by a live process: wait, and escalate to the database on-call if it is held for more than 30 minutes.".into(),
            sources: vec![src(RUN_A, 9), src(RUN_A, 10)],
        }],
        edge_cases: vec![EdgeCase {
            description: "The migration lock was held by a crashed run".into(),
            handling: "Removed the stale lock and reran the migration".into(),
            sources: vec![src(RUN_A, 9)],
        }],
        escalations: vec![Escalation {
            when: "Lock held by a live process for over 30 minutes".into(),
            contact: Some("database on-call".into()),
            sources: vec![src(RUN_A, 10)],
        }],
        success_checks: vec![SuccessCheck {
            description: "The new version answers its health check".into(),
            command: Some("./deploy/health.sh <<version>>".into()),
            expect: Expectation {
                exit_code: Some(0),
                output_contains: vec!["healthy".into()],
            },
            sources: vec![src(RUN_A, 16)],
        }],
        notes: vec![
            "The deploy window is Tuesday 10:00-12:00 UTC.".into(),
            "Migrations take about two minutes on the production database.".into(),
        ],
        revisions: vec![
            Revision {
                version: 1,
                date: "2026-11-02".into(),
                author: "alice@example.com".into(),
                summary: "Drafted from one recorded run".into(),
                runs: vec![RUN_A.into()],
            },
            Revision {
                version: 2,
                date: "2026-11-20".into(),
                author: "alice@example.com".into(),
                summary: "Added the stale-lock rule and the health check".into(),
                runs: vec![RUN_B.into()],
            },
        ],
        ..Default::default()
    }
}
