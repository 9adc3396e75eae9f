"""How far to trust a judge: agreement of evaluators with human reviewers, and judge-corrected
rates (docs/judge-trust.md).

`agreement` holds Cohen's κ, agreement and the confusion matrix (statsmodels does the κ);
`ppi` the prediction-powered estimate of a rate (PPI++, Angelopoulos et al. 2023) from counts;
`data` the SQL readers that pair an evaluator's verdicts with human labels on the same events;
`summary` puts them together per evaluator, per week and per segment for pages and the pack.
"""
