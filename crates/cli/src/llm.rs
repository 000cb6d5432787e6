//! The optional LLM pass of `review`: sends the deterministic review (key terms, risks with
//! their cited text and fallback language) to an OpenAI-compatible chat-completions endpoint
//! and asks for a plain-language summary and proposed redlines. Off unless `llm.url` is set.
//!
//! The model is untrusted like any input: a timeout, an HTTP error, a body that is not the
//! protocol's JSON, an answer cut at `max_tokens` or one that is not the JSON asked for each
//! become a warning in the review, never a failure, and redlines may only name rules the
//! review actually found.

use std::time::Duration;

use cr_analysis::review::{LlmPass, Redline, Review};
use cr_server::config::LlmConfig;
use serde::Deserialize;

/// Most characters of cited text sent per finding.
const CITED_CHARS: usize = 600;
/// Most characters kept of an answer that is plain text instead of JSON.
const PLAIN_ANSWER_CHARS: usize = 4000;

pub struct LlmClient {
    http: reqwest::Client,
    endpoint: String,
    model: String,
    api_key: Option<String>,
    max_tokens: u32,
}

#[derive(Deserialize)]
struct Completion {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    content: Option<String>,
}

/// The answer the prompt asks for.
#[derive(Deserialize)]
struct Answer {
    summary: Option<String>,
    #[serde(default)]
    redlines: Vec<AnswerRedline>,
}

#[derive(Deserialize)]
struct AnswerRedline {
    rule: String,
    proposed: String,
}

impl LlmClient {
    /// A client for `config`, or None when no endpoint is configured.
    pub fn new(config: &LlmConfig) -> anyhow::Result<Option<LlmClient>> {
        let Some(url) = &config.url else { return Ok(None) };
        let base = url.trim_end_matches('/');
        let endpoint = if base.ends_with("/chat/completions") {
            base.to_owned()
        } else if base.ends_with("/v1") {
            format!("{base}/chat/completions")
        } else {
            format!("{base}/v1/chat/completions")
        };
        let http = reqwest::Client::builder().timeout(Duration::from_millis(config.timeout_ms)).build()?;
        Ok(Some(LlmClient {
            http,
            endpoint,
            model: config.model.clone(),
            api_key: config.api_key.as_ref().map(|k| k.expose().to_owned()),
            max_tokens: config.max_tokens,
        }))
    }

    /// Runs the pass on `review`: fills `review.llm` and `engine.model`, or adds a warning.
    pub async fn enrich(&self, review: &mut Review) {
        match self.ask(review).await {
            Ok((pass, notes)) => {
                review.engine.model = Some(pass.model.clone());
                review.llm = Some(pass);
                review.warnings.extend(notes);
            }
            Err(reason) => review.warnings.push(format!("LLM pass skipped: {reason}")),
        }
    }

    async fn ask(&self, review: &Review) -> Result<(LlmPass, Vec<String>), String> {
        let body = serde_json::json!({
            "model": self.model,
            "temperature": 0,
            "max_tokens": self.max_tokens,
            "messages": [
                { "role": "system", "content": SYSTEM_PROMPT },
                { "role": "user", "content": prompt(review) },
            ],
        });
        let mut request = self.http.post(&self.endpoint).json(&body);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.map_err(|e| {
            if e.is_timeout() {
                "the endpoint did not answer in time (llm.timeout_ms)".to_owned()
            } else {
                format!("could not reach {}: {e}", self.endpoint)
            }
        })?;
        let status = response.status();
        let text = response.text().await.map_err(|e| format!("reading the answer failed: {e}"))?;
        if !status.is_success() {
            let excerpt: String = text.chars().take(200).collect();
            return Err(format!("the endpoint answered HTTP {status}: {excerpt}"));
        }
        let completion: Completion =
            serde_json::from_str(&text).map_err(|e| format!("the answer is not a chat completion: {e}"))?;
        let choice = completion.choices.into_iter().next().ok_or("the answer has no choices")?;
        let content = choice.message.content.unwrap_or_default();
        let mut notes = Vec::new();
        if choice.finish_reason.as_deref() == Some("length") {
            notes.push("LLM answer was cut at llm.max_tokens".to_owned());
        }
        let known: Vec<&str> = review.risks.iter().map(|r| r.rule.as_str()).collect();
        let pass = match parse_answer(&content) {
            Some(answer) => {
                let redlines: Vec<Redline> = answer
                    .redlines
                    .into_iter()
                    .filter(|r| known.contains(&r.rule.as_str()) && !r.proposed.trim().is_empty())
                    .map(|r| Redline { rule: r.rule, proposed: r.proposed.trim().to_owned() })
                    .collect();
                LlmPass {
                    model: self.model.clone(),
                    summary: answer.summary.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
                    redlines,
                }
            }
            None => {
                let plain = content.trim();
                if plain.is_empty() {
                    return Err("the model gave an empty answer".into());
                }
                notes.push("LLM answer was not the JSON asked for; kept as a plain summary".to_owned());
                LlmPass {
                    model: self.model.clone(),
                    summary: Some(plain.chars().take(PLAIN_ANSWER_CHARS).collect()),
                    redlines: Vec::new(),
                }
            }
        };
        Ok((pass, notes))
    }
}

const SYSTEM_PROMPT: &str = "You assist a lawyer reviewing a contract. You are given the key terms and the risks \
a rule-based review found, each with the cited clause and the fallback language of the team's playbook. Answer \
with JSON only, no prose around it: {\"summary\": \"3 to 5 plain sentences for a business reader\", \"redlines\": \
[{\"rule\": \"<the rule id of a risk>\", \"proposed\": \"<replacement clause text>\"}]}. Propose redlines only for \
the rule ids given.";

/// The review, as the model sees it.
fn prompt(review: &Review) -> String {
    let mut out = String::from("Key terms:\n");
    for row in &review.summary.key_terms {
        out.push_str(&format!("- {}: {}\n", row.term, row.value));
    }
    out.push_str("\nRisks:\n");
    for risk in &review.risks {
        out.push_str(&format!("- rule {} ({:?}): {}. {}\n", risk.rule, risk.severity, risk.title, risk.detail));
        if let Some(citation) = &risk.citation {
            let cited: String = citation.text.chars().take(CITED_CHARS).collect();
            out.push_str(&format!("  cited: \"{}\"\n", cited.split_whitespace().collect::<Vec<_>>().join(" ")));
        }
        out.push_str(&format!("  playbook fallback: \"{}\"\n", risk.fallback));
    }
    out
}

/// The JSON object in an answer, also when wrapped in a code fence or a sentence.
fn parse_answer(content: &str) -> Option<Answer> {
    let start = content.find('{')?;
    let end = content.rfind('}')?;
    if end <= start {
        return None;
    }
    serde_json::from_str(&content[start..=end]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_in_fences_or_with_prose_are_read_and_garbage_is_not() {
        let fenced = "Here you go:\n```json\n{\"summary\": \"Fine.\", \"redlines\": [{\"rule\": \"cap-missing\", \"proposed\": \"Cap it.\"}]}\n```";
        let answer = parse_answer(fenced).expect("fenced JSON");
        assert_eq!(answer.summary.as_deref(), Some("Fine."));
        assert_eq!(answer.redlines.len(), 1);
        assert!(parse_answer("no JSON at all").is_none());
        assert!(parse_answer("} backwards {").is_none());
        assert!(parse_answer("{\"summary\": 3}").is_none());
    }
}
