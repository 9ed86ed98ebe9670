"""`python -m observatoire.synthetic --wave 2024`: see `observatoire.synthetic.synth`."""

from observatoire.synthetic.synth import main

raise SystemExit(main())
