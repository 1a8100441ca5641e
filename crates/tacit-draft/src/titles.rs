//! Stage: step titles. A `tacit step` title wins; otherwise a built-in table
//! turns common command shapes into imperative titles; otherwise the script's
//! name is used.

use crate::classify::{base_name, program};

/// An imperative title for a command line.
pub fn title_for(command: &str) -> String {
    let prog = program(command);
    let words: Vec<&str> = command
        .split_whitespace()
        .skip_while(|w| *w != prog)
        .collect();
    let base = base_name(prog).to_ascii_lowercase();
    let sub = words.get(1).copied().unwrap_or("");
    let sub2 = words.get(2).copied().unwrap_or("");
    let last_arg = words
        .iter()
        .skip(1)
        .rev()
        .find(|w| !w.starts_with('-'))
        .copied()
        .unwrap_or("");
    let fixed = match (base.as_str(), sub) {
        ("git", "pull") => Some("Pull the latest code".to_string()),
        ("git", "clone") => Some("Clone the repository".into()),
        ("git", "fetch") => Some("Fetch the latest changes".into()),
        ("git", "checkout" | "switch") => Some(format!("Check out {last_arg}")),
        ("git", "merge") => Some(format!("Merge {last_arg}")),
        ("git", "push") => Some("Push the changes".into()),
        ("git", "tag") => Some("Tag the release".into()),
        ("git", "commit") => Some("Commit the changes".into()),
        ("cargo", "build") => Some("Build the project".into()),
        ("cargo", "test") => Some("Run the tests".into()),
        ("cargo", "install") => Some(format!("Install {last_arg}")),
        ("cargo", "publish") => Some("Publish the crate".into()),
        ("npm" | "yarn" | "pnpm", "install" | "ci") => Some("Install dependencies".into()),
        ("npm" | "yarn" | "pnpm", "test") => Some("Run the tests".into()),
        ("npm" | "yarn" | "pnpm", "run") => Some(format!("Run the {sub2} script")),
        ("npm", "publish") => Some("Publish the package".into()),
        ("make", "") => Some("Build with make".into()),
        ("make", target) => Some(format!("Run make {target}")),
        ("docker" | "podman", "build") => Some("Build the container image".into()),
        ("docker" | "podman", "push") => Some("Push the container image".into()),
        ("docker" | "podman", "pull") => Some("Pull the container image".into()),
        ("docker" | "podman", "run") => Some("Run the container".into()),
        ("docker" | "podman", "compose") if sub2 == "up" => Some("Start the services".into()),
        ("docker" | "podman", "compose") if sub2 == "down" => Some("Stop the services".into()),
        ("docker-compose", "up") => Some("Start the services".into()),
        ("kubectl", "apply") => Some("Apply the Kubernetes manifests".into()),
        ("kubectl", "rollout") if sub2 == "status" => Some("Wait for the rollout".into()),
        ("kubectl", "rollout") if sub2 == "restart" => Some("Restart the deployment".into()),
        ("kubectl", "rollout") if sub2 == "undo" => Some("Roll back the deployment".into()),
        ("kubectl", "scale") => Some("Scale the deployment".into()),
        ("kubectl", "delete") => Some("Delete the Kubernetes resources".into()),
        ("helm", "upgrade" | "install") => Some("Upgrade the Helm release".into()),
        ("helm", "rollback") => Some("Roll back the Helm release".into()),
        ("terraform" | "tofu", "init") => Some("Initialise Terraform".into()),
        ("terraform" | "tofu", "plan") => Some("Plan the infrastructure changes".into()),
        ("terraform" | "tofu", "apply") => Some("Apply the infrastructure changes".into()),
        ("terraform" | "tofu", "destroy") => Some("Destroy the infrastructure".into()),
        ("systemctl", "restart") => Some(format!("Restart {last_arg}")),
        ("systemctl", "start") => Some(format!("Start {last_arg}")),
        ("systemctl", "stop") => Some(format!("Stop {last_arg}")),
        ("systemctl", "reload") => Some(format!("Reload {last_arg}")),
        ("systemctl", "enable") => Some(format!("Enable {last_arg}")),
        ("psql" | "mysql", _) if command.contains(" -f ") || command.contains('<') => {
            Some("Run the SQL script".into())
        }
        ("psql" | "mysql", _) => Some("Run the database query".into()),
        ("ssh", _) => Some(format!(
            "Connect to {}",
            last_arg.split('@').next_back().unwrap_or(last_arg)
        )),
        ("scp" | "rsync", _) => Some("Copy the files".into()),
        ("aws", "s3") => Some("Sync files with S3".into()),
        ("aws", "ecs") if sub2 == "update-service" => Some("Update the ECS service".into()),
        ("gcloud", _) if command.contains("deploy") => Some("Deploy with gcloud".into()),
        ("curl" | "wget", _) if command.contains("health") => {
            Some("Check the health endpoint".into())
        }
        ("curl" | "wget", _) => Some("Call the HTTP endpoint".into()),
        ("pip" | "pip3", "install") => Some("Install Python packages".into()),
        ("apt-get" | "apt", "install") => Some("Install system packages".into()),
        ("tar", _) => Some("Unpack the archive".into()),
        _ => None,
    };
    if let Some(t) = fixed {
        return t.trim().to_string();
    }
    script_title(&base).unwrap_or_else(|| format!("Run {}", base_name(prog)))
}

/// Titles for scripts named after what they do: `build.sh`, `migrate`, …
fn script_title(base: &str) -> Option<String> {
    let table: &[(&str, &str)] = &[
        ("build", "Build the release"),
        ("migrate", "Run database migrations"),
        ("migration", "Run database migrations"),
        ("release", "Release the new version"),
        ("deploy", "Deploy"),
        ("rollback", "Roll back"),
        ("health", "Check health"),
        ("healthcheck", "Check health"),
        ("smoke", "Run the smoke tests"),
        ("test", "Run the tests"),
        ("backup", "Back up the data"),
        ("restore", "Restore the data"),
        ("install", "Install"),
        ("setup", "Set up"),
        ("bootstrap", "Bootstrap"),
        ("check-env", "Check the environment"),
        ("preflight", "Run the preflight checks"),
        ("verify", "Verify"),
        ("restart", "Restart the service"),
        ("seed", "Seed the database"),
        ("publish", "Publish"),
    ];
    table
        .iter()
        .find(|(name, _)| base == *name)
        .map(|(_, t)| t.to_string())
}

/// `deploy-web` → `Deploy web`.
pub fn humanize(name: &str) -> String {
    let words: Vec<&str> = name
        .split(['-', '_', '.', ' '])
        .filter(|w| !w.is_empty())
        .collect();
    let mut s = words.join(" ");
    if let Some(first) = s.get(0..1) {
        s = first.to_uppercase() + &s[1..];
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("git pull", "Pull the latest code")]
    #[case("./deploy/build.sh 1.4.2", "Build the release")]
    #[case("./deploy/migrate.sh", "Run database migrations")]
    #[case("./deploy/release.sh 1.4.2", "Release the new version")]
    #[case("sudo systemctl restart nginx", "Restart nginx")]
    #[case("kubectl rollout status deploy/web", "Wait for the rollout")]
    #[case("terraform apply -auto-approve", "Apply the infrastructure changes")]
    #[case("npm ci", "Install dependencies")]
    #[case("make deploy", "Run make deploy")]
    #[case("ssh ops@web-1.example.com", "Connect to web-1.example.com")]
    #[case("./scripts/frobnicate.sh", "Run frobnicate")]
    fn titles(#[case] line: &str, #[case] want: &str) {
        assert_eq!(title_for(line), want);
    }

    #[test]
    fn names_read_as_titles() {
        assert_eq!(humanize("deploy-web"), "Deploy web");
        assert_eq!(humanize("rotate_tls.certs"), "Rotate tls certs");
    }
}
