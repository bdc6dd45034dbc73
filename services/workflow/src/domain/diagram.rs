//! Definitions as pictures: Mermaid flowcharts (rendered by GitHub and most
//! wikis) and Graphviz DOT.

use std::fmt::Write as _;

use super::definition::{Definition, EdgeKind};

fn label(text: &str) -> String {
    text.replace('"', "'")
}

/// A Mermaid flowchart: steps as boxes (with kind and owner), transitions
/// labelled with their decision; send-back and rectification loops dotted.
pub fn mermaid(d: &Definition) -> String {
    let mut out = String::from("flowchart TD\n");
    let _ = writeln!(out, "    start((start)) --> {}", d.start_step);
    for s in &d.steps {
        let _ = writeln!(
            out,
            "    {}[\"{}<br/><small>{} · {}</small>\"]",
            s.id,
            label(&s.name),
            s.kind.as_str(),
            s.owner.role
        );
    }
    for t in &d.transitions {
        let to = t.to.as_deref().unwrap_or("finish");
        let arrow = if t.kind == EdgeKind::Forward {
            "-->"
        } else {
            "-.->"
        };
        let _ = writeln!(
            out,
            "    {} {arrow}|{}| {to}",
            t.from,
            t.decision.as_str().to_lowercase()
        );
    }
    if d.transitions.iter().any(|t| t.to.is_none()) {
        out.push_str("    finish((end))\n");
    }
    out
}

/// A Graphviz DOT digraph of the same.
pub fn dot(d: &Definition) -> String {
    let mut out = format!(
        "digraph \"{}\" {{\n    rankdir=TB;\n    node [shape=box, style=rounded];\n",
        label(&d.key)
    );
    out.push_str("    start [shape=circle, label=\"start\"];\n");
    let _ = writeln!(out, "    start -> \"{}\";", d.start_step);
    for s in &d.steps {
        let _ = writeln!(
            out,
            "    \"{}\" [label=\"{}\\n{} · {}\"];",
            s.id,
            label(&s.name),
            s.kind.as_str(),
            s.owner.role
        );
    }
    for t in &d.transitions {
        let to = t.to.as_deref().unwrap_or("end");
        let style = if t.kind == EdgeKind::Forward {
            ""
        } else {
            ", style=dashed"
        };
        let _ = writeln!(
            out,
            "    \"{}\" -> \"{to}\" [label=\"{}\"{style}];",
            t.from,
            t.decision.as_str().to_lowercase()
        );
    }
    if d.transitions.iter().any(|t| t.to.is_none()) {
        out.push_str("    end [shape=doublecircle, label=\"end\"];\n");
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::standard;

    #[test]
    fn the_mermaid_chart_has_every_step_and_dotted_loops() {
        let chart = mermaid(&standard::definition());
        assert!(chart.starts_with("flowchart TD\n"));
        assert!(chart.contains("joint_review[\"Joint review"));
        assert!(chart.contains("joint_review -.->|reject| plan"));
        assert!(chart.contains("acceptance -->|pass| finish"));
        assert!(chart.contains("rectification -.->|complete| acceptance"));
    }

    #[test]
    fn the_dot_graph_has_every_transition() {
        let graph = dot(&standard::definition());
        assert!(graph.starts_with("digraph \"standard\" {"));
        assert_eq!(
            graph.matches(" -> ").count(),
            13,
            "12 transitions and the start arrow"
        );
        assert!(graph.contains("\"acceptance\" -> \"end\" [label=\"pass\"];"));
    }
}
