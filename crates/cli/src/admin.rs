//! `contract-reviewer admin …`: accounts managed from the machine itself, for the first
//! users of an instance and for an admin locked out. Secrets are printed once on stdout (the
//! terminal), never logged.

use std::io::BufRead;

use cr_server::Config;
use cr_service::passwords::random_token;

use crate::AdminCommand;

pub async fn run(config: &Config, command: AdminCommand) -> anyhow::Result<()> {
    let services = cr_server::startup::AccountServices::build(config).await?;
    let accounts = &services.accounts;
    match command {
        AdminCommand::CreateUser { email, name, role, organisation, password_stdin } => {
            let organisation = match organisation {
                Some(id) => id,
                None => services.only_organisation().await?,
            };
            let (password, generated) = password(password_stdin)?;
            let member = accounts.add_user(&organisation, None, &email, &name, &password, &role).await?;
            println!("Created {} ({}) as {} of {organisation}.", member.email, member.id, member.role);
            if generated {
                println!("Password (shown once): {password}");
            }
        }
        AdminCommand::ResetPassword { email, password_stdin } => {
            let (user_id, organisation) = accounts.find_user(&email).await?;
            let (password, generated) = password(password_stdin)?;
            accounts.set_password(&organisation, &user_id, None, &password).await?;
            println!("Set the password of {email}; its sessions have ended.");
            if generated {
                println!("Password (shown once): {password}");
            }
        }
        AdminCommand::CreateApiKey { email, name, scopes } => {
            let principal = accounts.principal_of(&email).await?;
            let scopes = scopes.map(|s| s.split(',').map(|s| s.trim().to_owned()).collect());
            let created = services.auth.create_key(&principal, None, &name, scopes, None).await?;
            println!("Created key {} ({}) with scopes {}.", created.key.id, created.key.name, created.key.scopes);
            println!("API key (shown once): {}", created.api_key);
        }
    }
    Ok(())
}

/// The password from standard input, or a generated one (and whether it was generated).
fn password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if !from_stdin {
        return Ok((random_token("")[..24].to_owned(), true));
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok((line.trim_end_matches(['\r', '\n']).to_owned(), false))
}
