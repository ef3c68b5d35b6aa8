//! `tsudoi mfm`: MFM tools for plugin authors, reading MFM on standard input.

use clap::Subcommand;

use tsudoi::config::Config;

#[derive(Subcommand)]
pub enum MfmCommand {
    /// Print the tree as JSON, in mfm-js's shape (one array for the whole input).
    Parse {
        /// Use the simple parser (text and emoji only), as for display names.
        #[arg(long)]
        simple: bool,
        /// Nesting limit (mfm-js's default is 20).
        #[arg(long, default_value_t = tsudoi_mfm::DEFAULT_NEST_LIMIT)]
        nest_limit: usize,
    },
    /// Print the HTML this server renders (links point at the configured URL).
    Render {
        /// Print plain text instead of HTML.
        #[arg(long)]
        text: bool,
    },
}

pub fn parse(simple: bool, nest_limit: usize) -> anyhow::Result<()> {
    let input = super::read_stdin()?;
    let tree = if simple {
        tsudoi_mfm::parse_simple(&input)
    } else {
        tsudoi_mfm::parse_with_nest_limit(&input, nest_limit)
    };
    println!("{}", tsudoi_mfm::to_json(&tree));
    Ok(())
}

pub fn run(config: Config, cmd: MfmCommand) -> anyhow::Result<()> {
    match cmd {
        MfmCommand::Parse { simple, nest_limit } => parse(simple, nest_limit),
        MfmCommand::Render { text } => {
            let tree = tsudoi_mfm::parse(&super::read_stdin()?);
            if text {
                println!("{}", tsudoi_mfm::to_text(&tree));
            } else {
                println!(
                    "{}",
                    tsudoi_core::render::links(&config.settings, &tree, None)
                );
            }
            Ok(())
        }
    }
}
