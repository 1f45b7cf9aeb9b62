//! Velocities in structure files: extended XYZ's `velo`/`vel`/`velocities` (Å/fs) and ASE's
//! `momenta`, GRO's nm/ps, each checked through the kinetic energy of step 0; a trajectory
//! written by mlmd (extended XYZ and GRO) restarts from its last frame (`structure.frame = -1`)
//! with the velocities it ended with; a slab's extended XYZ trajectory keeps its periodicity.

mod common;

use common::mlmd;
use std::path::Path;

/// 1 amu·Å²/fs² in eV (metal units with fs).
const AMU_A2_PER_FS2_IN_EV: f64 = 103.642_696_562_456_4;
const ARGON_MASS: f64 = 39.948;

/// An NVE input on `structure` writing thermo (and optionally a trajectory) every step.
fn input(dir: &Path, structure: &str, steps: u64, trajectory: Option<&str>) -> String {
    let path = dir.join(format!("in-{steps}.toml"));
    let trajectory = trajectory.map_or(String::new(), |t| {
        format!("trajectory = \"{t}\"\ntrajectory_stride = {steps}\n")
    });
    std::fs::write(
        &path,
        format!(
            "[structure]\nfile = \"{structure}\"\n\n[potential]\ntype = \"lennard-jones\"\n\
             cutoff = 8.0\n[[potential.pairs]]\nelements = [\"Ar\", \"Ar\"]\n\
             epsilon = 0.0103236\nsigma = 3.405\n\n[integrator]\ntype = \"velocity-verlet\"\n\
             timestep = 2.0\n\n[run]\nsteps = {steps}\n\n[output]\nthermo = \"thermo-{steps}.csv\"\n\
             thermo_stride = 1\n{trajectory}"
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

/// Kinetic energies (eV) of every thermo line of a run.
fn kinetic_energies(dir: &Path, input: &str, steps: u64) -> Vec<f64> {
    let out = mlmd(&["run", input]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(dir.join(format!("thermo-{steps}.csv")))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(3).unwrap().parse().unwrap())
        .collect()
}

/// Two argon atoms 5 Å apart moving at ±(v, 0, 0) Å/fs.
fn extxyz(column: &str, value: f64) -> String {
    format!(
        "2\nLattice=\"20 0 0 0 20 0 0 0 20\" Properties=species:S:1:pos:R:3:{column}:R:3 pbc=\"T T T\"\n\
         Ar 1.0 1.0 1.0 {value} 0.0 0.0\nAr 6.0 1.0 1.0 {} 0.0 0.0\n",
        -value
    )
}

#[test]
fn structure_velocities_are_read_in_their_units() {
    let dir = tempfile::tempdir().unwrap();
    let v = 2e-3; // Å/fs
    let expected = ARGON_MASS * v * v * AMU_A2_PER_FS2_IN_EV; // two atoms, ½ m v² each
    let ase_time_fs = AMU_A2_PER_FS2_IN_EV.sqrt();
    let files = [
        ("velo.extxyz", extxyz("velo", v)),
        ("vel.extxyz", extxyz("vel", v)),
        ("velocities.extxyz", extxyz("velocities", v)),
        // ASE: momenta in amu·Å per ASE time unit (√(amu Å²/eV) = 10.18 fs).
        ("momenta.extxyz", extxyz("momenta", ARGON_MASS * v * ase_time_fs)),
        // GRO: nm and nm/ps; 2e-3 Å/fs = 0.2 nm/ps.
        (
            "argon.gro",
            "argon\n    2\n    1AR      AR    1   0.100   0.100   0.100  0.2000  0.0000  0.0000\n    \
             2AR      AR    2   0.600   0.100   0.100 -0.2000  0.0000  0.0000\n   2.00000   2.00000   2.00000\n"
                .to_string(),
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
        let input = input(dir.path(), name, 0, None);
        let ke = kinetic_energies(dir.path(), &input, 0)[0];
        assert!(
            (ke - expected).abs() < 1e-9 * expected,
            "{name}: kinetic energy {ke} eV, expected {expected}"
        );
    }
}

#[test]
fn a_trajectory_written_by_mlmd_restarts_with_its_velocities() {
    let dir = tempfile::tempdir().unwrap();
    let structure = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/inputs/argon-108.extxyz");
    for trajectory in ["last.extxyz", "last.gro"] {
        // 20 steps from the file's state with random velocities, then a run from the last frame.
        let first = dir.path().join("first.toml");
        let text = std::fs::read_to_string(input(
            dir.path(),
            structure.to_str().unwrap(),
            20,
            Some(trajectory),
        ))
        .unwrap()
            + "\n[velocities]\ntemperature = 80.0\nseed = 3\n";
        std::fs::write(&first, text).unwrap();
        let before = *kinetic_energies(dir.path(), first.to_str().unwrap(), 20)
            .last()
            .unwrap();
        // A run from the last frame (step 20; structure.frame = -1).
        let restart = input(
            dir.path(),
            dir.path().join(trajectory).to_str().unwrap(),
            0,
            None,
        );
        let text = std::fs::read_to_string(&restart)
            .unwrap()
            .replace("[structure]\n", "[structure]\nframe = -1\n");
        std::fs::write(&restart, text).unwrap();
        let after = kinetic_energies(dir.path(), &restart, 0)[0];
        // GRO stores velocities with 4 decimals in nm/ps; chemfiles writes extended XYZ
        // columns with about 8 significant digits.
        let tolerance = if trajectory.ends_with("gro") {
            2e-3
        } else {
            1e-6
        };
        assert!(
            (after - before).abs() <= tolerance * before,
            "{trajectory}: kinetic energy {before} eV at the end, {after} eV read back"
        );
    }
}

#[test]
fn a_slab_trajectory_reads_back_as_a_slab() {
    let dir = tempfile::tempdir().unwrap();
    let slab = "2\nLattice=\"20 0 0 0 20 0 0 0 30\" Properties=species:S:1:pos:R:3 pbc=\"T T F\"\n\
                Ar 1.0 1.0 1.0\nAr 5.0 1.0 1.0\n";
    std::fs::write(dir.path().join("slab.extxyz"), slab).unwrap();
    let run = input(dir.path(), "slab.extxyz", 3, Some("slab-run.extxyz"));
    kinetic_energies(dir.path(), &run, 3);
    let frames = mlmd::io::read_structures(&dir.path().join("slab-run.extxyz")).unwrap();
    assert_eq!(frames.len(), 2, "steps 0 and 3");
    for frame in frames {
        assert_eq!(frame.periodic, Some([true, true, false]));
    }
}

#[test]
fn a_trajectory_cut_off_mid_frame_reads_back_to_its_last_complete_frame() {
    let dir = tempfile::tempdir().unwrap();
    let structure = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/inputs/argon-108.extxyz");
    let run = input(
        dir.path(),
        structure.to_str().unwrap(),
        10,
        Some("full.extxyz"),
    );
    let text = std::fs::read_to_string(&run)
        .unwrap()
        .replace("trajectory_stride = 10", "trajectory_stride = 2");
    std::fs::write(&run, text).unwrap();
    kinetic_energies(dir.path(), &run, 10);
    let full = std::fs::read_to_string(dir.path().join("full.extxyz")).unwrap();
    let lines: Vec<&str> = full.lines().collect();
    assert_eq!(lines.len(), 6 * 110, "steps 0, 2, …, 10");
    // As a killed run leaves it: the sixth frame cut after 40 of its atoms.
    let cut = dir.path().join("cut.extxyz");
    std::fs::write(&cut, lines[..5 * 110 + 42].join("\n") + "\n").unwrap();
    let frames = mlmd::io::read_structures(&cut).unwrap();
    let complete = mlmd::io::read_structures(&dir.path().join("full.extxyz")).unwrap();
    assert_eq!(frames.len(), 5);
    assert_eq!(frames[..], complete[..5]);
}

#[test]
fn formats_named_in_the_input_read_and_write_files_without_extensions() {
    let dir = tempfile::tempdir().unwrap();
    let data = "LAMMPS data file\n\n4 atoms\n1 atom types\n\n0.0 5.26 xlo xhi\n\
                0.0 5.26 ylo yhi\n0.0 5.26 zlo zhi\n\nMasses\n\n1 39.948\n\n\
                Atoms # atomic\n\n1 1 0.0 0.0 0.0\n2 1 2.63 2.63 0.0\n3 1 2.63 0.0 2.63\n\
                4 1 0.0 2.63 2.63\n";
    std::fs::write(dir.path().join("argon.data"), data).unwrap();
    let extxyz = "4\nLattice=\"5.26 0 0 0 5.26 0 0 0 5.26\" Properties=species:S:1:pos:R:3 \
                  pbc=\"T T T\"\nAr 0 0 0\nAr 2.63 2.63 0\nAr 2.63 0 2.63\nAr 0 2.63 2.63\n";
    std::fs::write(dir.path().join("fcc.extxyz"), extxyz).unwrap();
    // Runs 0 steps on `name` with `extra` in [structure]; (output, step-0 potential energy).
    let potential = |name: &str, extra: &str| {
        let text = std::fs::read_to_string(input(dir.path(), name, 0, Some("out.trajectory")))
            .unwrap()
            .replace("[structure]\n", &format!("[structure]\n{extra}"))
            .replace(
                "[output]\n",
                "[output]\nformat = \"XYZ\"\noverwrite = true\n",
            )
            .replace("trajectory_stride = 0", "trajectory_stride = 1");
        let path = dir.path().join("named.toml");
        std::fs::write(&path, text).unwrap();
        let _ = std::fs::remove_file(dir.path().join("thermo-0.csv"));
        let out = mlmd(&["run", path.to_str().unwrap()]);
        let thermo = std::fs::read_to_string(dir.path().join("thermo-0.csv")).unwrap_or_default();
        let line = thermo.lines().nth(1);
        let energy = line.map_or(f64::NAN, |l| l.split(',').nth(2).unwrap().parse().unwrap());
        (out, energy)
    };
    let succeeded = |out: &std::process::Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let (out, reference) = potential("fcc.extxyz", "");
    succeeded(&out);
    let (out, energy) = potential(
        "argon.data",
        "format = \"LAMMPS Data\"\ntypes = { 1 = \"Ar\" }\n",
    );
    succeeded(&out);
    assert!(
        (energy - reference).abs() < 1e-12,
        "LAMMPS data {energy} vs {reference}"
    );
    let frames = mlmd::io::read_structures_as(
        &dir.path().join("out.trajectory"),
        Some("XYZ"),
        &Default::default(),
        None,
    );
    assert_eq!(
        frames.unwrap().len(),
        1,
        "output.format = \"XYZ\" wrote XYZ"
    );
    let (out, _) = potential("argon.data", "");
    assert!(
        !out.status.success(),
        "LAMMPS data is not guessed from .data"
    );
    let (out, _) = potential("argon.data", "format = \"LAMMPS Data\"\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("structure.types"),
        "the error names the key: {stderr}"
    );
}

/// A rotated cube (what a barostat or a cell relaxation can leave: angles within 1e-3° of 90°,
/// lattice not diagonal), which chemfiles 0.10 refuses, reads back with its lattice, positions
/// and velocities, frame by frame.
#[test]
fn a_rotated_orthorhombic_cell_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let (c, s) = (0.3f64.cos(), 0.3f64.sin());
    let lattice = [
        [10.0 * c, 10.0 * s, 0.0],
        [-12.0 * s, 12.0 * c, 0.0],
        [0.0, 0.0, 9.0],
    ];
    let flat: Vec<String> = lattice.iter().flatten().map(f64::to_string).collect();
    let frame = |step: u64, x: f64| {
        format!(
            "2\nLattice=\"{}\" Properties=species:S:1:pos:R:3:velo:R:3 pbc=\"T T T\" \
             step={step}\nAr {x} 1 1 0.001 0 0\nAr 4 5 6 0 -0.002 0\n",
            flat.join(" ")
        )
    };
    let path = dir.path().join("rotated.extxyz");
    std::fs::write(&path, frame(0, 1.0) + &frame(10, 1.5)).unwrap();
    let structures = mlmd::io::read_structures(&path).unwrap();
    assert_eq!(structures.len(), 2);
    for (structure, x) in structures.iter().zip([1.0, 1.5]) {
        assert_eq!(
            structure.lattice.unwrap(),
            nalgebra::Matrix3::from_fn(|i, j| lattice[i][j])
        );
        assert_eq!(structure.positions[0], nalgebra::Vector3::new(x, 1.0, 1.0));
        let velocities = structure.velocities.as_ref().unwrap();
        assert_eq!(velocities[1], nalgebra::Vector3::new(0.0, -0.002, 0.0));
    }
}
